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
		// Two goroutines see one waiting client, and both dequeue it.
		"ConcurrentClientsAllPair": {labtest.IndexOutOfRange},
		// Each count is right, but a snapshot of all five is not: a client
		// counted as come is not yet queued or paired.
		"StatsBalanceUnderLoad": {labtest.UnbalancedStats, labtest.IndexOutOfRange},
		// The client that left is still queued; its peer's goroutine writes
		// its finished response: the HTTP/2 panic, or under -race the race
		// on that ResponseWriter.
		"GoneClientIsNeverHandedOut": {labtest.WriteHeaderAfterFinished, labtest.DataRace},
		// The client that timed out is still queued, and handed out next.
		"LoneClientTimesOut":   {labtest.GhostPeer, labtest.DataRace},
		"TimeoutAndPeerAtOnce": {labtest.GhostPeer, labtest.DataRace},
		// The client answered 503 at shutdown is still queued, and handed
		// out to the next.
		"ShutdownAnswersWaiters": {labtest.GhostPeer, labtest.DataRace},
	})
}

func newHandler(t *testing.T, pairTimeout time.Duration) http.Handler {
	return newMatchmaker(pairTimeout)
}
