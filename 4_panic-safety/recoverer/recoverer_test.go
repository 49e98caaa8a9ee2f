package main

import (
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http"
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
	base, _ := serve(t, newHandler(newThing()))

	code, body, err := do(t, "POST", base+"/comments?text=a")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok\n", body)

	code, body, err = do(t, "GET", base+"/comments?last=2")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "first!\na\n", body)

	code, body, err = do(t, "GET", base+"/comments?last=0")
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Equal(t, "last must be a positive integer\n", body)
}

// TestPoisonLeavesMutexLocked: Recoverer turns the panic into a 500, where
// net/http alone sends no answer at all (../deadlock), and that is all it
// changes. The mutex stays locked, and every request that needs it hangs.
func TestPoisonLeavesMutexLocked(t *testing.T) {
	th := newThing()
	base, logs := serve(t, newHandler(th))

	// Control: the server answers at once.
	code, body, err := do(t, "GET", base+"/comments?last=1")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "first!\n", body)

	// The poison: 5 comments of 1. Recoverer answers 500 (and prints the
	// panic's stack to stderr: see it with go test -v).
	code, body, err = do(t, "GET", base+"/comments?last=5")
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
	wg.Go(func() { _, _, readErr = do(t, "GET", base+"/comments?last=1") })
	wg.Go(func() { _, _, writeErr = do(t, "POST", base+"/comments?text=x") })
	wg.Wait()
	assert.ErrorIs(t, readErr, context.DeadlineExceeded, "GET /comments?last=1 did not hang")
	assert.ErrorIs(t, writeErr, context.DeadlineExceeded, "POST /comments?text=x did not hang")
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
