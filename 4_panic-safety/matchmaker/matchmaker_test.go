package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"concurrencylab/4_panic-safety/crashonpanic"
	"concurrencylab/4_panic-safety/place"
	"concurrencylab/internal/labtest"
	"concurrencylab/internal/matchapi"
	"concurrencylab/internal/matchcheck"
	"concurrencylab/internal/server"
)

// TestMain lets StartChild run this test binary as the matchmaker server.
func TestMain(m *testing.M) {
	labtest.ServeIfChild(func(ln net.Listener) error {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		h, shutdown := newServer(slog.Default(), matchapi.DefaultPairTimeout)
		return server.Serve(ctx, ln, server.Config{OnShutdown: shutdown}, h)
	})
	labtest.Exit(m.Run())
}

// Without the poison, this is the mutex matchmaker: it passes the whole
// suite (whose ids have no "@").
func TestMatchmaker(t *testing.T) {
	labtest.Run(t, matchcheck.Subject.Scenarios, func(testing.TB) labtest.Server {
		h := matchapi.NewHandler(NewMatchmaker(), matchapi.DefaultPairTimeout)
		return labtest.Server{Handler: h, Shutdown: h.Shutdown}
	}, nil)
}

// Why crash rather than recover: the poison panics after the request is
// counted and before the client is queued or paired, so a recovered
// matchmaker (net/http's way) counts a client that has no outcome, and its
// /stats never balances again.
func TestRecoveredPoisonLeavesStatsUnbalanced(t *testing.T) {
	m := NewMatchmaker()
	assert.PanicsWithError(t, "runtime error: slice bounds out of range [:1] with length 0", func() {
		m.Join(t.Context(), "alice@")
	})
	s, err := m.Stats(t.Context())
	require.NoError(t, err)
	assert.Equal(t, matchapi.Stats{Requests: 1}, s)
	assert.False(t, s.Balanced(), "requests 1 = 2×paired 0 + timed out 0 + canceled 0 + waiting 0 does not hold")
}

const wait = 10 * time.Second

// The cycle a supervisor runs: the matchmaker pairs clients, the poison
// makes it exit with crashonpanic.ExitCode and a one-line reason, and a new
// process pairs clients again, its /stats balanced.
func TestPoisonCrashesAndRestartServesCleanState(t *testing.T) {
	first := labtest.StartChild(t)
	pair(t, first, "alice@Home", "bob")

	_, _, err := first.Get(t.Context(), "/?id=alice@", wait)
	require.Error(t, err, "the poison gets no response: the process is gone")
	code, out := first.Wait(t, wait)
	assert.Equal(t, crashonpanic.ExitCode, code, "exit code; output:\n%s", out)
	assert.Contains(t, out, " ERROR panic in a handler: exiting so a clean process can take over "+
		`panic="runtime error: slice bounds out of range [:1] with length 0" method=GET uri="/?id=alice@" exit=70`+"\n")
	assert.Regexp(t, `panic stack stack=".*place\.Fold\(`, out, "the stack names the function that panicked")

	restarted := labtest.StartChild(t)
	pair(t, restarted, "carol", "dave")
	status, body, err := restarted.Get(t.Context(), "/stats", wait)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"requests":2,"waiting":0,"paired":1,"timed_out":0,"canceled":0}`, body, "a clean, balanced start")
	code, _ = restarted.Stop(t, wait)
	assert.Zero(t, code, "a clean shutdown")
}

// pair joins first and then second, and checks that each is told the
// other (with the place folded as the matchmaker does).
func pair(t *testing.T, c *labtest.Child, first, second string) {
	t.Helper()
	answer := make(chan string, 1)
	go func() {
		_, body, err := c.Get(context.Background(), "/?id="+first, wait)
		if err != nil {
			body = err.Error()
		}
		answer <- body
	}()
	require.Eventually(t, func() bool {
		_, body, err := c.Get(t.Context(), "/stats", wait)
		return err == nil && strings.Contains(body, `"waiting":1`)
	}, wait, time.Millisecond, "%s waits", first)
	status, body, err := c.Get(t.Context(), "/?id="+second, wait)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, place.Fold(first)+"\n", body, "%s's peer", second)
	assert.Equal(t, second+"\n", <-answer, "%s's peer", first)
}
