package main

import (
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"

	"concurrencylab/internal/labtest"
	"concurrencylab/internal/matchapi"
)

// TestMain fails the package if any test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newHandler(t *testing.T, pairTimeout time.Duration) http.Handler {
	return matchapi.NewHandler(NewMatchmaker(), pairTimeout)
}

func TestMatchmaker(t *testing.T) {
	labtest.MatchmakerSuite(t, newHandler)
}

func BenchmarkMatchmaker(b *testing.B) {
	labtest.BenchmarkMatchmaker(b, func() matchapi.Matchmaker { return NewMatchmaker() })
}
