package main

import (
	"concurrencylab/internal/labtest"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
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
	base, _ := labtest.ServeRecovering(t, newHandler(newThing(), newCounterStore()))

	for _, text := range []string{"a", "b"} {
		code, body, err := labtest.Do(t.Context(), "POST", base+"/comments?text="+text, "", hangWait)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, code)
		assert.Equal(t, "ok\n", body)
	}
	code, body, err := labtest.Do(t.Context(), "GET", base+"/comments?last=3", "", hangWait)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "first!\na\nb\n", body)

	_, body, err = labtest.Do(t.Context(), "GET", base+"/comments?last=1", "", hangWait)
	require.NoError(t, err)
	assert.Equal(t, "b\n", body)
}

// TestBadInputChangesNothing: input that is wrong, but not the poison, gets
// a one-line 400 and leaves the comments as they were.
func TestBadInputChangesNothing(t *testing.T) {
	th := newThing()
	base, _ := labtest.ServeRecovering(t, newHandler(th, newCounterStore()))

	for _, tc := range []struct{ method, target, want string }{
		{"GET", "/comments", "last must be a positive integer\n"},
		{"GET", "/comments?last=", "last must be a positive integer\n"},
		{"GET", "/comments?last=0", "last must be a positive integer\n"},
		{"GET", "/comments?last=-1", "last must be a positive integer\n"},
		{"GET", "/comments?last=two", "last must be a positive integer\n"},
		{"GET", "/comments?last=99999999999999999999", "last must be a positive integer\n"},
		{"POST", "/comments", "missing text\n"},
		{"POST", "/comments?text=", "missing text\n"},
		{"POST", "/comments?text=" + strings.Repeat("x", maxTextBytes+1), "text over 256 bytes\n"},
		{"POST", "/comments?text=" + url.QueryEscape("two\nlines"), "text must be one line\n"},
	} {
		code, body, err := labtest.Do(t.Context(), tc.method, base+tc.target, "", hangWait)
		require.NoError(t, err, "%s %s", tc.method, tc.target)
		assert.Equal(t, http.StatusBadRequest, code, "%s %s", tc.method, tc.target)
		assert.Equal(t, tc.want, body, "%s %s", tc.method, tc.target)
	}

	th.mu.Lock()
	defer th.mu.Unlock()
	assert.Equal(t, []string{"first!"}, th.comments)
}

// TestPoisonLeavesMutexLocked proves the seed's deadlock: one request for
// more comments than there are panics with the mutex held, net/http recovers
// the panic and keeps serving, and from then on every request that needs the
// mutex hangs.
func TestPoisonLeavesMutexLocked(t *testing.T) {
	th := newThing()
	base, logs := labtest.ServeRecovering(t, newHandler(th, newCounterStore()))

	// Control: the server answers at once.
	code, body, err := labtest.Do(t.Context(), "GET", base+"/comments?last=1", "", hangWait)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "first!\n", body)

	// The poison: 5 comments of 1. The handler panics, and net/http closes
	// the connection without an answer (curl: "Empty reply from server").
	code, _, err = labtest.Do(t.Context(), "GET", base+"/comments?last=5", "", hangWait)
	require.ErrorIs(t, err, io.EOF, "the poison got an answer, status %d", code)
	assert.Contains(t, logs.String(), "http: panic serving")
	assert.Contains(t, logs.String(), "runtime error: slice bounds out of range [-4:]")

	// The mutex is still locked: the Unlock after the panic never ran.
	if !assert.False(t, th.mu.TryLock(), "the mutex is free after the panic") {
		th.mu.Unlock()
	}

	// So every request that needs it hangs, reads and writes alike. (Both
	// hang side by side; their handlers never return.)
	var wg sync.WaitGroup
	var readErr, writeErr error
	wg.Go(func() { _, _, readErr = labtest.Do(t.Context(), "GET", base+"/comments?last=1", "", hangWait) })
	wg.Go(func() { _, _, writeErr = labtest.Do(t.Context(), "POST", base+"/comments?text=x", "", hangWait) })
	wg.Wait()
	assert.ErrorIs(t, readErr, context.DeadlineExceeded, "GET /comments?last=1 did not hang")
	assert.ErrorIs(t, writeErr, context.DeadlineExceeded, "POST /comments?text=x did not hang")

	// All the while, net/http serves on: what never reaches the mutex is
	// answered as before.
	code, body, err = labtest.Do(t.Context(), "GET", base+"/comments?last=0", "", hangWait)
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Equal(t, "last must be a positive integer\n", body)
}

// TestCounterPoisonLeavesMutexLocked: the counter store that unlocks
// without defer, sent the poison that makes 4_panic-safety/counter exit,
// keeps its mutex locked for good; every counter request hangs after it.
func TestCounterPoisonLeavesMutexLocked(t *testing.T) {
	counters := newCounterStore()
	base, logs := labtest.ServeRecovering(t, newHandler(newThing(), counters))

	code, body, err := labtest.Do(t.Context(), "GET", base+"/inc?name=i", "", hangWait)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, body)

	code, _, err = labtest.Do(t.Context(), "GET", base+"/set?name=hits@&val=1", "", hangWait)
	require.ErrorIs(t, err, io.EOF, "the poison got an answer, status %d", code)
	assert.Contains(t, logs.String(), "runtime error: slice bounds out of range [:1] with length 0")
	if !assert.False(t, counters.mu.TryLock(), "the mutex is free after the panic") {
		counters.mu.Unlock()
	}
	_, _, err = labtest.Do(t.Context(), "GET", base+"/get?name=i", "", hangWait)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "GET /get?name=i did not hang")
}
