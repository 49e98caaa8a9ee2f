package main

import (
	"testing"

	"concurrencylab/internal/counterapi"
	"concurrencylab/internal/countercheck"
	"concurrencylab/internal/labbench"
	"concurrencylab/internal/labtest"
)

// TestMain exits without the race detector's one-second pause (labtest.Exit).
func TestMain(m *testing.M) { labtest.Exit(m.Run()) }

// newServer starts a fresh store behind the shared handler: a mutex, and
// nothing to stop.
func newServer(testing.TB) labtest.Server {
	return labtest.Server{Handler: counterapi.NewHandler(NewStore())}
}

func TestCounter(t *testing.T) {
	labtest.Run(t, countercheck.Subject.Scenarios, newServer, nil)
}

func BenchmarkStore(b *testing.B) {
	labbench.CounterStore(b, func(*testing.B) counterapi.Store { return NewStore() }, labbench.SerialAndParallel)
}
