package main

import (
	"concurrencylab/internal/labtest"
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain exits without the race detector's one-second pause (labtest.Exit).
func TestMain(m *testing.M) { labtest.Exit(m.Run()) }

// hangWait is how long a request may take before the test calls it hung:
// a live server answers these in microseconds.
const hangWait = time.Second

func TestComments(t *testing.T) {
	base, _ := labtest.ServeRecovering(t, newHandler(newThing()))

	code, body, err := labtest.Do(t.Context(), "POST", base+"/comments?text=a", "", hangWait)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok\n", body)

	code, body, err = labtest.Do(t.Context(), "GET", base+"/comments?last=2", "", hangWait)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "first!\na\n", body)

	code, body, err = labtest.Do(t.Context(), "GET", base+"/comments?last=0", "", hangWait)
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Equal(t, "last must be a positive integer\n", body)
}

// TestPoisonLeavesMutexLocked: Recoverer turns the panic into a 500, where
// net/http alone sends no answer at all (../deadlock), and that is all it
// changes. The mutex stays locked, and every request that needs it hangs.
func TestPoisonLeavesMutexLocked(t *testing.T) {
	th := newThing()
	base, logs := labtest.ServeRecovering(t, newHandler(th))

	// Control: the server answers at once.
	code, body, err := labtest.Do(t.Context(), "GET", base+"/comments?last=1", "", hangWait)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "first!\n", body)

	// The poison: 5 comments of 1. Recoverer answers 500 (and prints the
	// panic's stack to stderr: see it with go test -v).
	code, body, err = labtest.Do(t.Context(), "GET", base+"/comments?last=5", "", hangWait)
	require.NoError(t, err, "the poison got no answer")
	assert.Equal(t, http.StatusInternalServerError, code)
	assert.Empty(t, body)
	assert.NotContains(t, logs.String(), "http: panic serving", "net/http saw the panic: Recoverer did not catch it")

	// The mutex is still locked: the Unlock after the panic never ran.
	if !assert.False(t, th.mu.TryLock(), "the mutex is free after the panic") {
		th.mu.Unlock()
	}

	// So every request that needs it hangs, reads and writes alike.
	var wg sync.WaitGroup
	var readErr, writeErr error
	wg.Go(func() { _, _, readErr = labtest.Do(t.Context(), "GET", base+"/comments?last=1", "", hangWait) })
	wg.Go(func() { _, _, writeErr = labtest.Do(t.Context(), "POST", base+"/comments?text=x", "", hangWait) })
	wg.Wait()
	assert.ErrorIs(t, readErr, context.DeadlineExceeded, "GET /comments?last=1 did not hang")
	assert.ErrorIs(t, writeErr, context.DeadlineExceeded, "POST /comments?text=x did not hang")
}
