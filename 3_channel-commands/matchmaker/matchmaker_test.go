package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"concurrencylab/internal/labbench"
	"concurrencylab/internal/labtest"
	"concurrencylab/internal/matchapi"
	"concurrencylab/internal/matchcheck"
)

// TestMain fails the package if any test leaves a goroutine behind, such as
// an owner that was never stopped.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(labtest.Exit))
}

// newServer serves a fresh matchmaker, whose owner goroutine stops when
// the test ends.
func newServer(t testing.TB) labtest.Server {
	m := NewMatchmaker()
	t.Cleanup(m.Close)
	h := matchapi.NewHandler(m, matchapi.DefaultPairTimeout)
	return labtest.Server{Handler: h, Shutdown: h.Shutdown}
}

func TestMatchmaker(t *testing.T) {
	labtest.Run(t, matchcheck.Subject.Scenarios, newServer, nil)
}

func BenchmarkMatchmaker(b *testing.B) {
	labbench.Matchmaker(b, func(b *testing.B) matchapi.Matchmaker {
		m := NewMatchmaker()
		b.Cleanup(m.Close)
		return m
	})
}

// A client whose context ends while the owner is busy gives up at once,
// and the owner never counts it.
func TestJoinGivesUpWhenOwnerIsBusy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		busy := &Matchmaker{joins: make(chan join), done: make(chan struct{})} // nobody receives: an owner that never comes back
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()

		start := time.Now()
		_, err := busy.Join(ctx, "client")
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, time.Second, time.Since(start), "gave up exactly at the deadline")
	})
}

func TestCloseStopsOwner(t *testing.T) {
	m := NewMatchmaker()
	m.Close()
	m.Close() // a second Close is harmless

	select {
	case <-m.done:
	default:
		t.Fatal("Close returned before the owner did")
	}
	_, err := m.Join(t.Context(), "client")
	assert.ErrorIs(t, err, ErrClosed)
	_, err = m.Stats(t.Context())
	assert.ErrorIs(t, err, ErrClosed)

	// Over HTTP, a matchmaker that has stopped is a 503, not a hang.
	h := matchapi.NewHandler(m, time.Minute)
	for _, target := range []string{"/", "/stats"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code, target)
		assert.Equal(t, "matchmaker unavailable: matchmaker closed\n", rec.Body.String(), target)
	}
}
