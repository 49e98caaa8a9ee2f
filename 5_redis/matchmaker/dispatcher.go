package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// How the dispatcher comes back after Redis went away: it tries to
// subscribe again after minBackoff, then twice as long each time, up to
// maxBackoff.
const (
	minBackoff = 10 * time.Millisecond
	maxBackoff = 200 * time.Millisecond
)

// A dispatcher is a replica's one pub/sub subscription, to its wake-up
// channel, and the goroutine that reads it: each message is the token of
// one of this replica's waiters whose match is in Redis, and the
// dispatcher wakes that waiter, which reads the match itself. Pub/sub is
// at most once (a message published while the dispatcher is not
// subscribed is lost), so a wake-up only says when to look: after each
// subscription, the dispatcher wakes every waiter to look (onSubscribe),
// and a waiter whose wait ends looks once more as it leaves.
//
// A dispatcher does not notice a Redis that is gone without closing the
// connection (a network partition): its waiters then learn of their
// matches only as they leave. The lab's Redis is on loopback, where a
// stopped server closes it.
type dispatcher struct {
	ps          *redis.PubSub              // read only by run; Close, from close, ends run's read
	onSubscribe func(ctx context.Context)  // called by run after each subscription
	mu          sync.Mutex                 // guards waiters
	waiters     map[string]chan<- struct{} // token -> wake; Join adds and removes its own
	ctx         context.Context            // for run's reads and onSubscribe's scripts: ends at close
	cancel      context.CancelFunc         // called by close
	done        chan struct{}              // closed when run returns
	once        sync.Once                  // close's
}

// startDispatcher subscribes to channel, waits until Redis confirms it,
// and starts the goroutine that routes its messages.
func startDispatcher(ctx context.Context, rdb *redis.Client, channel string, onSubscribe func(context.Context)) (*dispatcher, error) {
	ps := rdb.Subscribe(ctx, channel)
	if _, err := ps.ReceiveTimeout(ctx, subscribeWait); err != nil {
		ps.Close()
		return nil, fmt.Errorf("subscribing to %s: %w", channel, err)
	}
	d := &dispatcher{
		ps: ps, onSubscribe: onSubscribe, waiters: make(map[string]chan<- struct{}),
		done: make(chan struct{}),
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	go d.run()
	return d, nil
}

// run reads the subscription until close. On an error (Redis went away)
// it waits a little and reads again: go-redis dials again and subscribes
// again, and the read returns the subscription.
func (d *dispatcher) run() {
	defer close(d.done)
	backoff := minBackoff
	for {
		msg, err := d.ps.Receive(d.ctx)
		if err != nil {
			select {
			case <-d.ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = minBackoff
		switch msg := msg.(type) {
		case *redis.Message:
			d.wake(msg.Payload)
		case *redis.Subscription:
			if msg.Kind == "subscribe" {
				d.onSubscribe(d.ctx)
			}
		}
	}
}

// close stops run, and with it the subscription.
func (d *dispatcher) close() {
	d.once.Do(func() {
		d.cancel()
		d.ps.Close()
		<-d.done
	})
}

// add routes w's wake-ups to it, until remove.
func (d *dispatcher) add(w *waiter) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.waiters[w.token] = w.wake
}

func (d *dispatcher) remove(w *waiter) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.waiters, w.token)
}

// wake wakes the waiter with this token, if it is still here.
func (d *dispatcher) wake(token string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if wake, ok := d.waiters[token]; ok {
		select {
		case wake <- struct{}{}:
		default: // already woken: it will look
		}
	}
}

// wakeAll wakes every waiter.
func (d *dispatcher) wakeAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, wake := range d.waiters {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
}
