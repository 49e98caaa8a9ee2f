package main

import (
	"testing"

	"concurrencylab/internal/labbench"
	"concurrencylab/internal/labtest"
	"concurrencylab/internal/notifyapi"
	"concurrencylab/internal/notifycheck"
	"concurrencylab/internal/scenario"
)

// TestMain exits without the race detector's one-second pause (labtest.Exit).
func TestMain(m *testing.M) { labtest.Exit(m.Run()) }

// TestNotifierIsBroken runs the notifier suite against the seed's design:
// the scenarios below must each fail, in a child process, the way the seed
// says; the rest of the suite it passes. With LAB_EXERCISE=1 every scenario
// must pass instead.
func TestNotifierIsBroken(t *testing.T) {
	labtest.Run(t, notifycheck.Subject.Scenarios, newServer, map[string][]scenario.Failure{
		// Every scenario ends with its subscribers gone, and the seed never
		// notices that one has gone: CloseNotify does not fire after the
		// upgrade, and nothing reads the connection.
		"EveryEventToEverySubscriber":     {notifycheck.NeverRemoved, labtest.LeakedGoroutines},
		"DisconnectedSubscriberIsRemoved": {notifycheck.NeverRemoved},
		"SilentSubscriberTimesOut":        {notifycheck.NeverRemoved},
		"OversizedFrameEndsSubscriber":    {notifycheck.NeverRemoved},
		"BadInputChangesNothing":          {notifycheck.NeverRemoved, labtest.LeakedGoroutines},
		// A connection's goroutine whose write fails waits for the lock to
		// delete its pipe, while the next publish holds it and waits to send
		// on that pipe: every publish hangs. (When no publish comes at that
		// moment, the subscribers that left are still counted at the end.)
		"SubscribersComeAndGo": {scenario.HungRequest, notifycheck.NeverRemoved, labtest.LeakedGoroutines},
		// Its goroutine blocks writing to a client that does not read, and
		// the next publish waits for it, with the lock held.
		"StalledSubscriberIsDropped": {scenario.HungRequest},
	})
}

// newServer starts the seed's notifier. Its Close stops nothing, but a fix
// may start a goroutine that it stops: the suite fails on leaked goroutines.
func newServer(t testing.TB) labtest.Server {
	n := newNotifier(notifyapi.Options{})
	t.Cleanup(n.Close)
	return labtest.Server{Handler: n, Shutdown: n.onShutdown}
}

// BenchmarkFanOut runs without a stalled subscriber only: with one, the
// seed's publish hangs.
func BenchmarkFanOut(b *testing.B) {
	labbench.FanOut(b, newServer, true)
}
