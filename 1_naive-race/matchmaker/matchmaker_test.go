package main

import (
	"net/http"
	"testing"
	"time"

	"concurrencylab/internal/labtest"
)

// TestMatchmakerIsBroken runs the matchmaker suite against the seed's
// design: the scenarios below must each fail, in a child process, the way
// the seed says; the rest of the suite it passes. With LAB_EXERCISE=1 every
// scenario must pass instead.
func TestMatchmakerIsBroken(t *testing.T) {
	labtest.BrokenMatchmakerSuite(t, newHandler, map[string][]labtest.Failure{
		// Two goroutines see one waiting client, and both dequeue it. (Less
		// often, two see none, and both wait side by side, unpaired.)
		"ConcurrentClientsAllPair": {labtest.IndexOutOfRange, labtest.Unpaired},
		// Each count is right, but a snapshot of all five is not: a client
		// counted as come is not yet queued or paired.
		"StatsBalanceUnderLoad": {labtest.UnbalancedStats, labtest.IndexOutOfRange, labtest.Unpaired},
		// The client that left is still queued, and the goroutine that pairs
		// the next one with it writes its finished response: the HTTP/2
		// panic, or under -race the race on that ResponseWriter (or, should
		// the write win the race with the handler's return, a wrong pair).
		"GoneClientIsNeverHandedOut": {labtest.WriteHeaderAfterFinished, labtest.DataRace, labtest.WrongPair},
		// The client that timed out is still queued, and handed out next.
		"LoneClientTimesOut":   {labtest.WrongPair, labtest.DataRace},
		"TimeoutAndPeerAtOnce": {labtest.WrongPair, labtest.DataRace},
		// The client answered 503 at shutdown is still queued.
		"ShutdownAnswersWaiters": {labtest.LeftQueued},
	})
}

func newHandler(t *testing.T, pairTimeout time.Duration) http.Handler {
	m := newMatchmaker(pairTimeout)
	// A fix whose state an owner goroutine holds must stop it: the suite fails on leaked goroutines.
	if owner, ok := any(m).(interface{ Close() }); ok {
		t.Cleanup(owner.Close)
	}
	return m
}
