package main

import (
	"testing"

	"concurrencylab/internal/counterapi"
	"concurrencylab/internal/countercheck"
	"concurrencylab/internal/labbench"
	"concurrencylab/internal/labtest"
	"concurrencylab/internal/scenario"
)

// TestMain exits without the race detector's one-second pause (labtest.Exit).
func TestMain(m *testing.M) { labtest.Exit(m.Run()) }

// newServer starts a fresh naive store behind the shared handler. A fix
// that starts an owner goroutine stops it in Close (the exercise).
func newServer(t testing.TB) labtest.Server {
	store := NewStore()
	t.Cleanup(store.Close)
	return labtest.Server{Handler: counterapi.NewHandler(store)}
}

// TestCounterIsBroken proves the naive store fails the counter suite's
// concurrent increments: run in a child process, they trip the race
// detector under -race, and without it the runtime's "concurrent map
// writes" check, or they lose increments. The rest of the suite, one
// request at a time, passes. With LAB_EXERCISE=1 the whole suite must pass.
func TestCounterIsBroken(t *testing.T) {
	want := []scenario.Failure{scenario.ConcurrentMapWrites, countercheck.CountShort}
	if labtest.RaceEnabled {
		want = []scenario.Failure{scenario.DataRace}
	}
	labtest.Run(t, countercheck.Subject.Scenarios, newServer, map[string][]scenario.Failure{
		"ConcurrentIncrementsAreExact": want,
	})
}

// The naive store can only be measured one goroutine at a time: in
// parallel it crashes.
func BenchmarkStore(b *testing.B) {
	labbench.CounterStore(b, func(b *testing.B) counterapi.Store {
		store := NewStore()
		b.Cleanup(store.Close)
		return store
	}, labbench.SerialOnly)
}
