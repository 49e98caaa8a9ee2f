package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"concurrencylab/4_panic-safety/crashonpanic"
	"concurrencylab/internal/labtest"
	"concurrencylab/internal/server"
)

// TestMain lets StartChild run this test binary as the counter server.
func TestMain(m *testing.M) {
	labtest.ServeIfChild(func(ln net.Listener) error {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		return server.Serve(ctx, ln, server.Config{}, newServer(slog.Default()))
	})
	labtest.Exit(m.Run())
}

const wait = 10 * time.Second

// The cycle a supervisor runs: the counter serves, the poison makes it exit
// with crashonpanic.ExitCode and a one-line reason, and a new process
// serves again, from clean state.
func TestPoisonCrashesAndRestartServesCleanState(t *testing.T) {
	first := labtest.StartChild(t)
	expect(t, first, "/set?name=hits@Home&val=5", "ok")
	expect(t, first, "/inc?name=hits@home", "ok")
	expect(t, first, "/get?name=hits@home", "hits@home: 6")

	_, _, err := first.Get(t.Context(), "/set?name=hits@&val=1", wait)
	require.Error(t, err, "the poison gets no response: the process is gone")
	code, out := first.Wait(t, wait)
	assert.Equal(t, crashonpanic.ExitCode, code, "exit code; output:\n%s", out)
	assert.Contains(t, out, " ERROR panic in a handler: exiting so a clean process can take over "+
		`panic="runtime error: slice bounds out of range [:1] with length 0" method=GET uri="/set?name=hits@&val=1" exit=70`+"\n")
	assert.Regexp(t, `panic stack stack=".*place\.Fold\(`, out, "the stack names the function that panicked")

	restarted := labtest.StartChild(t)
	expect(t, restarted, "/get?name=i", "i: 0")
	status, body, err := restarted.Get(t.Context(), "/get?name=hits@home", wait)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, status, "the old process's counters went with it: %s", body)
	expect(t, restarted, "/inc?name=i", "ok")
	expect(t, restarted, "/get?name=i", "i: 1")
	code, _ = restarted.Stop(t, wait)
	assert.Zero(t, code, "a clean shutdown")
}

func expect(t *testing.T, c *labtest.Child, target, want string) {
	t.Helper()
	status, body, err := c.Get(t.Context(), target, wait)
	require.NoError(t, err, target)
	require.Equal(t, http.StatusOK, status, "%s: %s", target, body)
	require.Equal(t, want+"\n", body, target)
}
