package main

import (
	"testing"

	"concurrencylab/internal/counterapi"
	"concurrencylab/internal/labtest"
)

// TestCounterIsBroken proves the naive store fails the counter suite: run in
// a child process, it trips the race detector under -race, and without it
// the runtime's "concurrent map writes" check or loses increments.
// With LAB_EXERCISE=1 it demands the suite pass instead.
func TestCounterIsBroken(t *testing.T) {
	want := []labtest.Failure{labtest.ConcurrentMapWrites, labtest.LostUpdates}
	if labtest.RaceEnabled {
		want = []labtest.Failure{labtest.DataRace}
	}
	labtest.ExpectFailure(t, func(t *testing.T) {
		store := NewStore()
		// A fix whose map a manager goroutine holds must stop it when done.
		if owner, ok := any(store).(interface{ Close() }); ok {
			t.Cleanup(owner.Close)
		}
		labtest.CounterSuite(t, counterapi.NewHandler(store))
	}, want...)
}

// The naive store can only be measured one goroutine at a time: in
// parallel it crashes.
func BenchmarkStore(b *testing.B) {
	labtest.BenchmarkCounterStore(b, func() counterapi.Store { return NewStore() }, labtest.SerialOnly)
}
