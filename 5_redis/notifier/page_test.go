//go:build lab

package main

import (
	"testing"

	"concurrencylab/internal/labtest"
	"concurrencylab/internal/notifycheck/notifypage"
	"concurrencylab/internal/redislab"
)

// TestPage: the notifier's page, in two browser tabs of one replica on a
// fresh embedded Redis, shows each change in both; when one closes,
// /stats, whose counts are in Redis, counts the other only.
func TestPage(t *testing.T) {
	rs := labtest.Redis(t, redislab.Embedded)
	tg := labtest.Loopback(t, factory(rs)(t), false)
	notifypage.CheckTabs(t, tg.URL, 1, "")
}
