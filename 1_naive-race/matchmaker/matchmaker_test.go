package main

import (
	"testing"

	"concurrencylab/internal/labtest"
	"concurrencylab/internal/matchapi"
	"concurrencylab/internal/matchcheck"
	"concurrencylab/internal/scenario"
)

// TestMain exits without the race detector's one-second pause (labtest.Exit).
func TestMain(m *testing.M) { labtest.Exit(m.Run()) }

// TestMatchmakerIsBroken runs the matchmaker suite against the seed's
// design: the scenarios below must each fail, in a child process, the way
// the seed says; the rest of the suite it passes. With LAB_EXERCISE=1 every
// scenario must pass instead.
func TestMatchmakerIsBroken(t *testing.T) {
	labtest.Run(t, matchcheck.Subject.Scenarios, newServer, map[string][]scenario.Failure{
		// Two goroutines see one waiting client, and both dequeue it. (Less
		// often, two see none, and both wait side by side, unpaired.)
		"ConcurrentClientsAllPair": {matchcheck.IndexOutOfRange, matchcheck.Unpaired},
		// Each count is right, but a snapshot of all five is not: a client
		// counted as come is not yet queued or paired.
		"StatsBalanceUnderLoad": {matchcheck.UnbalancedStats, matchcheck.IndexOutOfRange, matchcheck.Unpaired},
		// The client that left is still queued, and the goroutine that pairs
		// the next one with it writes its finished response: the HTTP/2
		// panic, or under -race the race on that ResponseWriter (or, should
		// the write win the race with the handler's return, a wrong pair).
		"GoneClientIsNeverHandedOut": {matchcheck.WriteHeaderAfterFinished, scenario.DataRace, matchcheck.WrongPair},
		// The client that timed out is still queued, and handed out next.
		"LoneClientTimesOut":   {matchcheck.WrongPair, scenario.DataRace},
		"TimeoutAndPeerAtOnce": {matchcheck.WrongPair, scenario.DataRace},
		// The client answered 503 at shutdown is still queued.
		"ShutdownAnswersWaiters": {matchcheck.LeftQueued},
	})
}

// newServer starts the seed's matchmaker. Close stops whatever a fix
// starts (the seed starts nothing): the suite fails on leaked goroutines.
func newServer(t testing.TB) labtest.Server {
	m := newMatchmaker(matchapi.DefaultPairTimeout)
	t.Cleanup(m.Close)
	return labtest.Server{Handler: m, Shutdown: m.Shutdown}
}
