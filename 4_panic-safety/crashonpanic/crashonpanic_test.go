package crashonpanic

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"concurrencylab/internal/labtest"
	"concurrencylab/internal/server"
)

// TestMain lets StartChild run this test binary as a server with three
// routes behind the middleware: one that works, one that aborts its
// response on purpose, and one that panics.
func TestMain(m *testing.M) {
	labtest.ServeIfChild(func(ln net.Listener) error {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		mux := http.NewServeMux()
		mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
		mux.HandleFunc("/abort", func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) })
		mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
		return server.Serve(ctx, ln, server.Config{}, Middleware(slog.Default(), os.Stderr.Sync)(mux))
	})
	labtest.Exit(m.Run())
}

const exitWait = 10 * time.Second

func TestPanicExitsWithItsReason(t *testing.T) {
	child := labtest.StartChild(t)
	status, body, err := child.Get(t.Context(), "/ok", exitWait)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, body)

	_, _, err = child.Get(t.Context(), "/panic", exitWait)
	require.Error(t, err, "the process died: no response")
	code, out := child.Wait(t, exitWait)
	assert.Equal(t, ExitCode, code)
	// One line that says why, then the stack (on one line too, as slog
	// quotes it), down to the handler that panicked.
	assert.Contains(t, out, " ERROR panic in a handler: exiting so a clean process can take over panic=boom method=GET uri=/panic exit=70\n")
	assert.Regexp(t, ` ERROR panic stack stack="goroutine \d+ \[running\]:\\n.*crashonpanic_test.go:\d+`, out)
}

// http.ErrAbortHandler is a handler aborting its response on purpose:
// net/http cuts the response off, logs nothing, and keeps serving.
func TestAbortHandlerPassesThrough(t *testing.T) {
	child := labtest.StartChild(t)
	_, _, err := child.Get(t.Context(), "/abort", exitWait)
	require.Error(t, err, "the response is cut off")
	status, body, err := child.Get(t.Context(), "/ok", exitWait)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status, body)
	assert.True(t, child.Running())

	code, out := child.Stop(t, exitWait)
	assert.Zero(t, code, "a clean shutdown")
	assert.NotContains(t, out, "panic")
}

// Without a panic, the middleware is invisible.
func TestNoPanicNoEffect(t *testing.T) {
	h := Middleware(slog.Default(), nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, http.StatusTeapot, rec.Code)
}
