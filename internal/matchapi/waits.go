package matchapi

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Why a wait for a peer ended, as context.Cause reports it.
var (
	ErrPairTimeout  = errors.New("no peer within the pair timeout")
	ErrShuttingDown = errors.New("server shutting down")
)

// Waits makes the contexts that clients wait for a peer under.
type Waits struct {
	pairTimeout time.Duration
	stopping    context.Context // ends at Shutdown
	shutdown    context.CancelFunc
}

// NewWaits gives each wait pairTimeout.
func NewWaits(pairTimeout time.Duration) *Waits {
	stopping, shutdown := context.WithCancel(context.Background())
	return &Waits{pairTimeout: pairTimeout, stopping: stopping, shutdown: shutdown}
}

// Context returns the context that r's client waits for a peer under. It
// ends when the pair timeout passes (cause ErrPairTimeout, Err
// DeadlineExceeded), when the client goes (Err Canceled), or at Shutdown
// (cause ErrShuttingDown, Err Canceled). Call cancel when the wait is over.
func (ws *Waits) Context(r *http.Request) (ctx context.Context, cancel func()) {
	ctx, cancelCause := context.WithCancelCause(r.Context())
	stopWatching := context.AfterFunc(ws.stopping, func() { cancelCause(ErrShuttingDown) })
	if ws.stopping.Err() != nil {
		// After Shutdown, AfterFunc runs its func in a goroutine of its
		// own, some time later: end this wait now, so that the matchmaker
		// sees a client that came after Shutdown as gone from the start.
		cancelCause(ErrShuttingDown)
	}
	ctx, cancelTimeout := context.WithTimeoutCause(ctx, ws.pairTimeout, ErrPairTimeout)
	return ctx, func() {
		cancelTimeout()
		stopWatching()
		cancelCause(nil)
	}
}

// Shutdown ends every wait, now and later.
func (ws *Waits) Shutdown() { ws.shutdown() }
