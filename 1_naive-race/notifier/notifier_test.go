package main

import (
	"net/http"
	"testing"

	"concurrencylab/internal/labtest"
	"concurrencylab/internal/notifyapi"
)

// TestNotifierIsBroken runs the notifier suite against the seed's design:
// the scenarios below must each fail, in a child process, the way the seed
// says; the rest of the suite it passes. With LAB_EXERCISE=1 every scenario
// must pass instead.
func TestNotifierIsBroken(t *testing.T) {
	labtest.BrokenNotifierSuite(t, newHandler, map[string][]labtest.Failure{
		// Every scenario ends with its subscribers gone, and the seed never
		// notices that one has gone: CloseNotify does not fire after the
		// upgrade, and nothing reads the connection.
		"EveryEventToEverySubscriber":     {labtest.NeverRemoved, labtest.Leaked},
		"DisconnectedSubscriberIsRemoved": {labtest.NeverRemoved},
		"SilentSubscriberTimesOut":        {labtest.NeverRemoved},
		"OversizedFrameEndsSubscriber":    {labtest.NeverRemoved},
		"BadInputChangesNothing":          {labtest.NeverRemoved, labtest.Leaked},
		// A connection's goroutine whose write fails waits for the lock to
		// delete its pipe, while the next publish holds it and waits to send
		// on that pipe: every publish hangs. (When no publish comes at that
		// moment, the subscribers that left are still counted at the end.)
		"SubscribersComeAndGo": {labtest.Hung, labtest.NeverRemoved, labtest.Leaked},
		// Its goroutine blocks writing to a client that does not read, and
		// the next publish waits for it, with the lock held.
		"StalledSubscriberIsDropped": {labtest.Hung},
	})
}

func newHandler(t testing.TB) http.Handler {
	n := newNotifier(notifyapi.Options{})
	// A fix whose state an owner goroutine holds must stop it: the suite fails on leaked goroutines.
	if owner, ok := any(n).(interface{ Close() }); ok {
		t.Cleanup(owner.Close)
	}
	return n
}

// BenchmarkFanOut runs without a stalled subscriber only: with one, the
// seed's publish hangs.
func BenchmarkFanOut(b *testing.B) {
	labtest.BenchmarkFanOut(b, newHandler, true)
}
