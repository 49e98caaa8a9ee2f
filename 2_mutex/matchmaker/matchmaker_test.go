package main

import (
	"testing"

	"go.uber.org/goleak"

	"concurrencylab/internal/labbench"
	"concurrencylab/internal/labtest"
	"concurrencylab/internal/matchapi"
	"concurrencylab/internal/matchcheck"
)

// TestMain fails the package if any test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(labtest.Exit))
}

// newServer serves a fresh matchmaker; it has nothing to stop.
func newServer(testing.TB) labtest.Server {
	h := matchapi.NewHandler(NewMatchmaker(), matchapi.DefaultPairTimeout)
	return labtest.Server{Handler: h, Shutdown: h.Shutdown}
}

func TestMatchmaker(t *testing.T) {
	labtest.Run(t, matchcheck.Subject.Scenarios, newServer, nil)
}

func BenchmarkMatchmaker(b *testing.B) {
	labbench.Matchmaker(b, func(*testing.B) matchapi.Matchmaker { return NewMatchmaker() })
}
