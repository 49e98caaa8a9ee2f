package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"concurrencylab/internal/counterapi"
	"concurrencylab/internal/countercheck"
	"concurrencylab/internal/labbench"
	"concurrencylab/internal/labtest"
)

// TestMain fails the package if any test leaves a goroutine behind, such as
// an owner that was never stopped.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(labtest.Exit))
}

// newServer starts a fresh store behind the shared handler; cleanup stops
// its owner goroutine.
func newServer(t testing.TB) labtest.Server {
	store := NewStore()
	t.Cleanup(store.Close)
	return labtest.Server{Handler: counterapi.NewHandler(store)}
}

func TestCounter(t *testing.T) {
	labtest.Run(t, countercheck.Subject.Scenarios, newServer, nil)
}

// Every command's reply channel has room for its result, so a caller that
// never reads its reply (its client has gone) cannot hold the owner up.
func TestOwnerDoesNotWaitForGoneCaller(t *testing.T) {
	store := NewStore()
	store.incs <- newInc("i") // and never read its reply

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	val, err := store.Get(ctx, "i")
	require.NoError(t, err, "the owner is stuck on the abandoned reply")
	assert.Equal(t, int64(1), val)
	store.Close() // not deferred: after a failure it would wait forever for the stuck owner
}

// A caller whose context ends while the owner is busy gives up at once
// instead of queueing behind it.
func TestCallerGivesUpWhenContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		busy := &Store{incs: make(chan inc), done: make(chan struct{})} // nobody receives: an owner that never comes back
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()

		start := time.Now()
		err := busy.Inc(ctx, "i")
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, time.Second, time.Since(start), "gave up exactly at the deadline")
	})
}

func TestCloseStopsOwner(t *testing.T) {
	store := NewStore()
	store.Close()
	store.Close() // a second Close is harmless

	select {
	case <-store.done:
	default:
		t.Fatal("Close returned before the owner did")
	}
	assert.ErrorIs(t, store.Set(t.Context(), "i", 1), ErrClosed)
	_, err := store.Get(t.Context(), "i")
	assert.ErrorIs(t, err, ErrClosed)

	// Over HTTP, a store that has stopped is a 503, not a hang.
	rec := httptest.NewRecorder()
	counterapi.NewHandler(store).ServeHTTP(rec, httptest.NewRequest("GET", "/get?name=i", nil))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "counter store unavailable: counter store closed\n", rec.Body.String())
}

func BenchmarkStore(b *testing.B) {
	labbench.CounterStore(b, func(b *testing.B) counterapi.Store {
		store := NewStore()
		b.Cleanup(store.Close)
		return store
	}, labbench.SerialAndParallel)
}
