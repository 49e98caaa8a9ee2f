package main

import (
	"net/http"
	"testing"

	"go.uber.org/goleak"

	"concurrencylab/internal/labtest"
	"concurrencylab/internal/notifyapi"
)

// TestMain fails the package if any test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newHandler(t testing.TB) http.Handler {
	return notifyapi.NewHandler(NewHub(), notifyapi.Options{})
}

func TestNotifier(t *testing.T) {
	labtest.NotifierSuite(t, newHandler)
}

func BenchmarkFanOut(b *testing.B) {
	labtest.BenchmarkFanOut(b, newHandler, false)
}
