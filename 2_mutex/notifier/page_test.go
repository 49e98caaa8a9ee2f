//go:build lab

package main

import (
	"testing"

	"concurrencylab/internal/labtest"
	"concurrencylab/internal/notifycheck/notifypage"
)

// TestPage: the notifier's page, in two browser tabs, shows each change in
// both; when one closes, /stats counts the other only. This version's test
// takes the docs' screenshot (LAB_SCREENSHOTS=1).
func TestPage(t *testing.T) {
	tg := labtest.Loopback(t, newServer(t), false)
	notifypage.CheckTabs(t, tg.URL, 1, notifypage.Screenshot)
}
