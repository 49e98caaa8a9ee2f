package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"concurrencylab/internal/labbench"
	"concurrencylab/internal/labtest"
	"concurrencylab/internal/notifyapi"
	"concurrencylab/internal/notifycheck"
)

// TestMain fails the package if any test leaves a goroutine behind, such as
// an owner that was never stopped.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(labtest.Exit))
}

// newServer starts a notifier on a hub whose owner goroutine the test's
// cleanup stops.
func newServer(t testing.TB) labtest.Server {
	hub := NewHub()
	t.Cleanup(hub.Close)
	h := notifyapi.NewHandler(hub, notifyapi.Options{})
	return labtest.Server{Handler: h, Shutdown: h.Shutdown}
}

func TestNotifier(t *testing.T) {
	labtest.Run(t, notifycheck.Subject.Scenarios, newServer, nil)
}

func BenchmarkFanOut(b *testing.B) {
	labbench.FanOut(b, newServer, false)
}

func TestCloseStopsOwner(t *testing.T) {
	hub := NewHub()
	h := notifyapi.NewHandler(hub, notifyapi.Options{})
	srv := httptest.NewServer(h)
	defer srv.Close()
	sub, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", nil)
	require.NoError(t, err)
	defer sub.Close()
	require.Eventually(t, func() bool {
		s, err := hub.Stats(t.Context())
		return err == nil && s.Subscribers == 1
	}, 10*time.Second, time.Millisecond, "the subscriber is registered")

	hub.Close()
	hub.Close() // a second Close is harmless
	select {
	case <-hub.done:
	default:
		t.Fatal("Close returned before the owner did")
	}

	// Close said goodbye to the subscriber, and calls after it fail.
	_, _, err = sub.ReadMessage()
	assert.True(t, websocket.IsCloseError(err, websocket.CloseGoingAway), "the subscriber's goodbye: %v", err)
	assert.ErrorIs(t, hub.Publish([]byte("{}")), ErrClosed)
	_, err = hub.Stats(t.Context())
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, hub.Register(nil), ErrClosed)

	// Over HTTP, a hub that has stopped is a 503, not a hang, and a change
	// it could not announce is not made.
	for _, req := range []struct{ method, target string }{{"POST", "/resources"}, {"GET", "/stats"}} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(req.method, req.target, strings.NewReader("{}")))
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code, req.target)
		assert.Equal(t, "notifier unavailable: hub closed\n", rec.Body.String(), req.target)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/resources/1", nil))
	assert.Equal(t, http.StatusNotFound, rec.Code, "the failed POST stored nothing")
}
