//go:build lab

package matchapi_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"concurrencylab/internal/matchapi"
)

// A wait that begins after Shutdown has ended before Context returns, so a
// matchmaker that checks ctx.Err() first sees the client as gone from the
// start, every time. (context.AfterFunc alone would end it a moment later,
// from a goroutine of its own, and a matchmaker's select would then pick
// between its cases at random.)
func TestWaitAfterShutdownHasEnded(t *testing.T) {
	ws := matchapi.NewWaits(time.Minute)
	ws.Shutdown()
	for range 1000 {
		ctx, cancel := ws.Context(httptest.NewRequest("GET", "/", nil))
		err := ctx.Err()
		cancel()
		require.ErrorIs(t, err, context.Canceled)
		require.True(t, errors.Is(context.Cause(ctx), matchapi.ErrShuttingDown), "cause %v", context.Cause(ctx))
	}
}
