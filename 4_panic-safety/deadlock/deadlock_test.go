package main

import (
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hangWait is how long a request may take before the test calls it hung:
// a live server answers these in microseconds.
const hangWait = time.Second

func TestComments(t *testing.T) {
	base, _ := serve(t, newHandler(newThing(), newCounterStore()))

	for _, text := range []string{"a", "b"} {
		code, body, err := do(t, "POST", base+"/comments?text="+text)
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, code)
		assert.Equal(t, "ok\n", body)
	}
	code, body, err := do(t, "GET", base+"/comments?last=3")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "first!\na\nb\n", body)

	_, body, err = do(t, "GET", base+"/comments?last=1")
	require.NoError(t, err)
	assert.Equal(t, "b\n", body)
}

// TestBadInputChangesNothing: input that is wrong, but not the poison, gets
// a one-line 400 and leaves the comments as they were.
func TestBadInputChangesNothing(t *testing.T) {
	th := newThing()
	base, _ := serve(t, newHandler(th, newCounterStore()))

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
		code, body, err := do(t, tc.method, base+tc.target)
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
	base, logs := serve(t, newHandler(th, newCounterStore()))

	// Control: the server answers at once.
	code, body, err := do(t, "GET", base+"/comments?last=1")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "first!\n", body)

	// The poison: 5 comments of 1. The handler panics, and net/http closes
	// the connection without an answer (curl: "Empty reply from server").
	code, _, err = do(t, "GET", base+"/comments?last=5")
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
	wg.Go(func() { _, _, readErr = do(t, "GET", base+"/comments?last=1") })
	wg.Go(func() { _, _, writeErr = do(t, "POST", base+"/comments?text=x") })
	wg.Wait()
	assert.ErrorIs(t, readErr, context.DeadlineExceeded, "GET /comments?last=1 did not hang")
	assert.ErrorIs(t, writeErr, context.DeadlineExceeded, "POST /comments?text=x did not hang")

	// All the while, net/http serves on: what never reaches the mutex is
	// answered as before.
	code, body, err = do(t, "GET", base+"/comments?last=0")
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Equal(t, "last must be a positive integer\n", body)
}

// TestCounterPoisonLeavesMutexLocked: the counter store that unlocks
// without defer, sent the poison that makes 4_panic-safety/counter exit,
// keeps its mutex locked for good; every counter request hangs after it.
func TestCounterPoisonLeavesMutexLocked(t *testing.T) {
	counters := newCounterStore()
	base, logs := serve(t, newHandler(newThing(), counters))

	code, body, err := do(t, "GET", base+"/inc?name=i")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, body)

	code, _, err = do(t, "GET", base+"/set?name=hits@&val=1")
	require.ErrorIs(t, err, io.EOF, "the poison got an answer, status %d", code)
	assert.Contains(t, logs.String(), "runtime error: slice bounds out of range [:1] with length 0")
	if !assert.False(t, counters.mu.TryLock(), "the mutex is free after the panic") {
		counters.mu.Unlock()
	}
	_, _, err = do(t, "GET", base+"/get?name=i")
	assert.ErrorIs(t, err, context.DeadlineExceeded, "GET /get?name=i did not hang")
}

// serve serves h on a loopback port until the test ends, and returns its
// URL and what the server logs. Cleanup closes the listener and every
// connection without waiting for the handlers: after the poison some of
// them never return (httptest.Server's Close, like Shutdown, would wait).
func serve(t *testing.T, h http.Handler) (string, *syncBuffer) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	logs := &syncBuffer{}
	srv := &http.Server{Handler: h, ErrorLog: log.New(logs, "", 0)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		<-served
	})
	return "http://" + ln.Addr().String(), logs
}

// client opens a new connection for every request, so that a request whose
// connection the server closed is never retried on another.
var client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// do sends a request without a body, giving up after hangWait, and returns
// the status and body of the answer.
func do(t *testing.T, method, target string) (int, string, error) {
	ctx, cancel := context.WithTimeout(t.Context(), hangWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// syncBuffer is a bytes.Buffer that the server's goroutines can write while
// the test reads it.
type syncBuffer struct {
	mu  sync.Mutex   // guards buf
	buf bytes.Buffer // what was written, read only with mu held
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
