package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// The listener's timing.
const (
	// subscribeWait bounds one attempt to subscribe: the dial, SUBSCRIBE
	// and Redis's confirmation.
	subscribeWait = 2 * time.Second

	// quietWait is how long the listener waits for a message before it
	// pings Redis on the subscription; a second quietWait with no answer
	// either is a broken subscription (a half-open connection that no read
	// would ever fail on).
	quietWait = 5 * time.Second

	// While Redis is away, the listener tries to subscribe again after
	// resubscribeFirst, and then after twice as long each time, up to
	// resubscribeMax: soon after Redis is back, without hammering it
	// while it is not.
	resubscribeFirst = 10 * time.Millisecond
	resubscribeMax   = 500 * time.Millisecond
)

// errClosed is a subscription attempted after Close.
var errClosed = errors.New("the replica is closed")

// listen is the listener, a goroutine of its own from newFanout to Close:
// it relays every event of ps to the local subscribers, in order. When the
// subscription breaks, the replica may have missed events, so it ends
// every subscriber (GoodbyeRedisLost) and subscribes again once Redis is
// back. It uses Receive, not go-redis's Channel, which reconnects by
// itself and would let events go missing unseen.
func (f *Fanout) listen(ps *redis.PubSub) {
	defer f.done.Done()
	for {
		err := f.relay(ps)
		ps.Close()
		if f.isClosed() {
			return
		}
		slog.Warn("lost the subscription to Redis: every subscriber is told 1011 until it is back", "err", err)
		f.lose()
		if ps = f.resubscribe(); ps == nil {
			return
		}
		slog.Info("subscribed to Redis again")
	}
}

// relay offers each event of ps to the local subscribers until the
// subscription breaks or is closed, and returns why.
func (f *Fanout) relay(ps *redis.PubSub) error {
	ctx := context.Background()
	pinged := false // a ping is waiting for its answer
	for {
		msg, err := ps.ReceiveTimeout(ctx, quietWait)
		switch {
		case isTimeout(err) && !pinged:
			if err := ps.Ping(ctx); err != nil {
				return err
			}
			pinged = true
			continue
		case isTimeout(err):
			return fmt.Errorf("Redis did not answer a ping within %v", quietWait)
		case err != nil:
			return err
		}
		pinged = false // any message will do as the answer
		if m, ok := msg.(*redis.Message); ok {
			f.Publish([]byte(m.Payload))
		}
	}
}

// resubscribe tries to subscribe, backing off, until it has, or Close
// stops it (nil).
func (f *Fanout) resubscribe() *redis.PubSub {
	wait := resubscribeFirst
	for {
		select {
		case <-f.stop:
			return nil
		case <-time.After(wait):
		}
		ps, err := f.subscribe(context.Background())
		switch {
		case err == nil:
			return ps
		case errors.Is(err, errClosed):
			return nil
		}
		wait = min(2*wait, resubscribeMax)
	}
}

// subscribe subscribes to eventsChannel and waits for Redis to confirm it;
// from then on the replica takes subscribers, which miss no event.
func (f *Fanout) subscribe(ctx context.Context) (*redis.PubSub, error) {
	ps := f.rdb.Subscribe(ctx, eventsChannel)
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		ps.Close()
		return nil, errClosed
	}
	f.ps = ps // for Close to end the Receive
	f.mu.Unlock()

	msg, err := ps.ReceiveTimeout(ctx, subscribeWait)
	if _, ok := msg.(*redis.Subscription); err == nil && !ok {
		err = fmt.Errorf("Redis answered SUBSCRIBE with %v", msg)
	}
	if err != nil {
		ps.Close()
		return nil, fmt.Errorf("subscribing to Redis: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listening = true
	return ps, nil
}

func (f *Fanout) isClosed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

// isTimeout reports whether err is a read deadline passing.
func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}
