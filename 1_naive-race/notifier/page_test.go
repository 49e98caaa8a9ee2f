//go:build lab

package main

import (
	"os"
	"testing"

	"concurrencylab/internal/labtest"
	"concurrencylab/internal/notifycheck/notifypage"
)

// TestPageKeepsClosedTab: the notifier's page, in two browser tabs, shows
// each change in both; but when one closes, /stats goes on counting it,
// the seed's bug as anyone with a browser can see it (notifier.go). The
// server runs in this process: the seed's bugs are leaks and hangs, not
// data races, and this test triggers neither a report nor a hang (one
// change after the close, no more). The closed tab's goroutine is left
// blocked, as the seed leaves it; this package checks for no leaks. In
// exercise mode (LAB_EXERCISE=1) a fixed version must stop counting it.
func TestPageKeepsClosedTab(t *testing.T) {
	afterClose := int64(2)
	if os.Getenv(labtest.ExerciseEnv) == "1" {
		afterClose = 1
	}
	tg := labtest.Loopback(t, newServer(t), false)
	notifypage.CheckTabs(t, tg.URL, afterClose, "")
}
