package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"concurrencylab/internal/labtest"
	"concurrencylab/internal/server"
)

// The poison kills the process that serves it, so the server runs in a
// child process: this test binary, run again, serving from TestMain.
func TestMain(m *testing.M) {
	labtest.ServeIfChild(func(ln net.Listener) error {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		return server.Serve(ctx, ln, server.Config{}, newHandler(newOrders()))
	})
	labtest.Exit(m.Run())
}

// Waits. A live server answers in microseconds; a child process takes a
// moment to start, to process an order, or to die.
const (
	answerWait = time.Second
	childWait  = 10 * time.Second
)

// TestPanicInGoroutineKillsServer: a panic in a goroutine that a handler
// started is recovered by nobody. The client that sent the poison has its
// 202, and then the whole server dies.
func TestPanicInGoroutineKillsServer(t *testing.T) {
	child := labtest.StartChild(t)
	requireHealthy(t, child)

	// A good order is processed, and the server lives on.
	code, body, err := post(t, child.URL+"/orders?id=order-1")
	require.NoError(t, err)
	assert.Equal(t, http.StatusAccepted, code)
	assert.Equal(t, "accepted\n", body)
	requireProcessed(t, child, "order-1")
	requireHealthy(t, child)

	// The poison is accepted too: the handler answered before its
	// goroutine panicked.
	code, body, err = post(t, child.URL+"/orders?id=oops")
	require.NoError(t, err, "the poison got no answer")
	assert.Equal(t, http.StatusAccepted, code)
	assert.Equal(t, "accepted\n", body)

	// Then the process dies of the panic, in the goroutine the handler
	// started, and net/http never saw it.
	code, out := child.Wait(t, childWait)
	assert.Equal(t, 2, code, "exit code")
	assert.Contains(t, out, "panic: runtime error: index out of range [1] with length 1")
	assert.Contains(t, out, "concurrencylab/4_panic-safety/goroutine.orderNumber(")
	assert.Contains(t, out, "created by concurrencylab/4_panic-safety/goroutine.newHandler.func1")
	assert.NotContains(t, out, "http: panic serving")

	// Nobody listens any more.
	_, _, err = child.Get(t.Context(), "/health", answerWait)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
}

// TestPanicInHandlerIsRecovered: the same panic in the handler's own
// goroutine is recovered by net/http. That client gets no answer, and the
// server serves on.
func TestPanicInHandlerIsRecovered(t *testing.T) {
	child := labtest.StartChild(t)

	code, body, err := post(t, child.URL+"/orders/sync?id=order-2")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "processed\n", body)

	_, _, err = post(t, child.URL+"/orders/sync?id=oops")
	require.ErrorIs(t, err, io.EOF, "the poison got an answer")

	requireHealthy(t, child)
	requireProcessed(t, child, "order-2")

	// It even shuts down cleanly, having logged the panic on the way.
	code, out := child.Stop(t, childWait)
	assert.Equal(t, 0, code, "exit code")
	assert.Contains(t, out, "http: panic serving")
	assert.Contains(t, out, "runtime error: index out of range [1] with length 1")
}

func TestBadOrderID(t *testing.T) {
	h := newHandler(newOrders())
	for _, target := range []string{"/orders", "/orders/sync"} {
		for id, want := range map[string]string{
			"":                                "missing id\n",
			strings.Repeat("i", maxIDBytes+1): "id over 128 bytes\n",
		} {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("POST", target+"?id="+id, nil))
			assert.Equal(t, http.StatusBadRequest, w.Code, target)
			assert.Equal(t, want, w.Body.String(), target)
		}
	}
}

// requireHealthy fails the test unless the child answers GET /health.
func requireHealthy(t *testing.T, child *labtest.Child) {
	t.Helper()
	code, body, err := child.Get(t.Context(), "/health", answerWait)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\n", body)
}

// requireProcessed waits, at most childWait, until the child says the
// order with the given id is processed.
func requireProcessed(t *testing.T, child *labtest.Child, id string) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		code, _, err := child.Get(t.Context(), "/orders/"+id, answerWait)
		if assert.NoError(c, err) {
			assert.Equal(c, http.StatusOK, code)
		}
	}, childWait, 10*time.Millisecond, "order %s was never processed", id)
}

// client opens a new connection for every request, so that a request whose
// connection the server closed is never retried on another.
var client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// post sends a POST without a body, giving up after answerWait, and returns
// the status and body of the answer.
func post(t *testing.T, target string) (int, string, error) {
	ctx, cancel := context.WithTimeout(t.Context(), answerWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", target, nil)
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
