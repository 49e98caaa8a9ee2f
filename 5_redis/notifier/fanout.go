package main

import (
	"context"
	"crypto/rand"
	"sync"
	"sync/atomic"

	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"

	"concurrencylab/internal/notifyapi"
)

// GoodbyeRedisLost is the close frame of a subscriber whose replica has
// lost its subscription to Redis, or has not got it back yet: it could
// miss events, so it is told, 1011 (internal error), rather than left to
// miss them unseen. It may subscribe again once Redis is back.
var GoodbyeRedisLost = websocket.FormatCloseMessage(websocket.CloseInternalServerErr,
	"the server lost Redis, so events could be missed: subscribe again later")

// A Fanout is one replica's local hub (a notifyapi.Hub): the set of its
// own subscribers, guarded by mu, to which its listener (listen.go) offers
// every event Redis publishes, in the order Redis publishes them. The
// counts of /stats are kept in Redis, for every replica to read (counts.go).
type Fanout struct {
	rdb     *redis.Client // set by newFanout; safe for concurrent use
	replica string        // set by newFanout: this replica's field in keySubscribers

	mu          sync.Mutex
	subscribers map[*notifyapi.Subscriber]struct{} // guarded by mu
	listening   bool                               // guarded by mu: subscribed to eventsChannel, so a new subscriber misses nothing
	shutDown    bool                               // guarded by mu: no more subscribers
	closed      bool                               // guarded by mu: Close has begun; the listener and flusher stop
	ps          *redis.PubSub                      // guarded by mu: the listener's subscription, for Close to close; nil between two

	delivered atomic.Int64  // deliveries not yet added to keyCounts: Delivered adds, the flusher takes
	dropped   atomic.Int64  // drops not yet added to keyCounts: Publish adds, the flusher takes
	dirty     chan struct{} // one slot: a count changed; anyone sends without waiting, the flusher receives
	stop      chan struct{} // closed by Close: the listener and the flusher return
	done      sync.WaitGroup
}

// newFanout subscribes to Redis, and returns once it is subscribed, so
// that a subscriber that comes next misses no event; then its listener
// and flusher run until Close.
func newFanout(ctx context.Context, rdb *redis.Client) (*Fanout, error) {
	f := &Fanout{
		rdb:         rdb,
		replica:     rand.Text(),
		subscribers: make(map[*notifyapi.Subscriber]struct{}),
		dirty:       make(chan struct{}, 1),
		stop:        make(chan struct{}),
	}
	ps, err := f.subscribe(ctx)
	if err != nil {
		return nil, err
	}
	f.done.Add(2)
	go f.listen(ps)
	go f.flushCounts()
	f.changed() // count this replica, at 0, from the start
	return f, nil
}

// Register adds s, which receives every event the listener relays from
// then on: every change made after, and perhaps a few made just before
// (published by Redis, not yet relayed). While the replica is not
// subscribed to Redis, s is told so at once (GoodbyeRedisLost), as those
// it had were.
func (f *Fanout) Register(s *notifyapi.Subscriber) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.shutDown:
		return notifyapi.ErrShuttingDown
	case !f.listening:
		s.End(GoodbyeRedisLost)
		return nil
	}
	f.subscribers[s] = struct{}{}
	f.changed()
	return nil
}

func (f *Fanout) Unregister(s *notifyapi.Subscriber) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.remove(s, nil)
}

// Publish offers msg to every local subscriber; only the listener calls
// it, one event at a time. It counts no publish: keySeq does.
func (f *Fanout) Publish(msg []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subscribers {
		if !s.Offer(msg) {
			f.remove(s, notifyapi.GoodbyeTooSlow)
			f.dropped.Add(1)
		}
	}
	return nil
}

func (f *Fanout) Delivered() {
	f.delivered.Add(1)
	f.changed()
}

func (f *Fanout) Shutdown() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shutDown = true
	f.removeAll(notifyapi.GoodbyeShuttingDown)
}

// Close shuts down, stops the listener and the flusher, and takes this
// replica's count out of Redis. It does not close rdb.
func (f *Fanout) Close() {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed, f.shutDown = true, true
	f.removeAll(notifyapi.GoodbyeShuttingDown)
	if f.ps != nil {
		f.ps.Close() // ends the listener's Receive
	}
	close(f.stop)
	f.mu.Unlock()
	f.done.Wait()
	f.forget()
}

// lose ends every subscriber with GoodbyeRedisLost, and turns new ones
// away the same way until the listener has subscribed again.
func (f *Fanout) lose() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listening = false
	f.removeAll(GoodbyeRedisLost)
}

// remove takes s out of the set, if it is there, and ends its queue with
// goodbye. The caller holds mu: membership is what makes End happen once.
func (f *Fanout) remove(s *notifyapi.Subscriber, goodbye []byte) {
	if _, ok := f.subscribers[s]; ok {
		delete(f.subscribers, s)
		s.End(goodbye)
		f.changed()
	}
}

// removeAll removes every subscriber; the caller holds mu.
func (f *Fanout) removeAll(goodbye []byte) {
	for s := range f.subscribers {
		f.remove(s, goodbye)
	}
}

// count is how many subscribers the replica has now.
func (f *Fanout) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subscribers)
}

// changed tells the flusher that a count changed, without waiting.
func (f *Fanout) changed() {
	select {
	case f.dirty <- struct{}{}:
	default: // the flusher has been told already
	}
}
