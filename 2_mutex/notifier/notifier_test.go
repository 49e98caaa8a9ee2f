package main

import (
	"testing"

	"go.uber.org/goleak"

	"concurrencylab/internal/labbench"
	"concurrencylab/internal/labtest"
	"concurrencylab/internal/notifyapi"
	"concurrencylab/internal/notifycheck"
)

// TestMain fails the package if any test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(labtest.Exit))
}

// newServer starts a notifier on a mutex hub, which has nothing to stop.
func newServer(t testing.TB) labtest.Server {
	h := notifyapi.NewHandler(NewHub(), notifyapi.Options{})
	return labtest.Server{Handler: h, Shutdown: h.Shutdown}
}

func TestNotifier(t *testing.T) {
	labtest.Run(t, notifycheck.Subject.Scenarios, newServer, nil)
}

func BenchmarkFanOut(b *testing.B) {
	labbench.FanOut(b, newServer, false)
}
