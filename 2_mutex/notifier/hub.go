// Command notifier is a REST store of resources that announces every change
// to every websocket subscriber (see internal/notifyapi). A mutex guards
// the set of subscribers.
//
// SAFE: the seed's design, fixed as its answer says and then some. A reader
// goroutine per connection notices when it ends and unregisters it, instead
// of waiting for a CloseNotify that never comes after the upgrade. And the
// publisher never waits for a subscriber: it holds the lock only to offer
// each one the event on a bounded queue, which a writer goroutine per
// connection empties; a subscriber whose queue is full is dropped. Pings,
// and read and write deadlines, find clients that vanished or stopped
// reading. Prove it:
//
//	go test -race ./2_mutex/notifier
//
// or watch it: two subscribers, one leaves, and changes still go through.
//
//	go run ./2_mutex/notifier &
//	go run ./internal/subscribe      # in two more terminals; then Ctrl-C one
//	curl 127.0.0.1:8000/stats        # one subscriber
//	curl -d '{"name":"a"}' 127.0.0.1:8000/resources
//	kill %1                          # stops go run and the server with it
//
// Compare with the channel version, whose owner goroutine holds the set
// instead of a lock: diff 2_mutex/notifier 3_channel-commands/notifier.
// (The naive version keeps its seed's own design, so its diff with this one
// is a rewrite: read it for its bugs.)
package main

import (
	"context"
	"sync"

	"concurrencylab/internal/notifyapi"
)

// Hub is the set of subscribers and the counts, guarded by mu.
type Hub struct {
	mu          sync.Mutex
	subscribers map[*notifyapi.Subscriber]struct{} // guarded by mu
	stats       notifyapi.Stats                    // guarded by mu; Subscribers is left at 0: it is len(subscribers)
	shutDown    bool                               // guarded by mu: no more subscribers
}

func NewHub() *Hub {
	return &Hub{subscribers: make(map[*notifyapi.Subscriber]struct{})}
}

func (h *Hub) Register(s *notifyapi.Subscriber) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.shutDown {
		return notifyapi.ErrShuttingDown
	}
	h.subscribers[s] = struct{}{}
	return nil
}

func (h *Hub) Unregister(s *notifyapi.Subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.remove(s, nil)
}

// Publish holds the lock for one pass over the set, so every subscriber
// gets the events in the order they are published; Offer never waits.
func (h *Hub) Publish(msg []byte) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stats.Published++
	for s := range h.subscribers {
		if !s.Offer(msg) {
			h.remove(s, notifyapi.GoodbyeTooSlow)
			h.stats.Dropped++
		}
	}
	return nil
}

func (h *Hub) Delivered() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stats.Delivered++
}

func (h *Hub) Stats(context.Context) (notifyapi.Stats, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.stats
	s.Subscribers = int64(len(h.subscribers))
	return s, nil
}

func (h *Hub) Shutdown() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.shutDown = true
	for s := range h.subscribers {
		h.remove(s, notifyapi.GoodbyeShuttingDown)
	}
}

// remove takes s out of the set, if it is there, and ends its queue with
// goodbye. The caller holds mu: membership is what makes End happen once.
func (h *Hub) remove(s *notifyapi.Subscriber, goodbye []byte) {
	if _, ok := h.subscribers[s]; ok {
		delete(h.subscribers, s)
		s.End(goodbye)
	}
}
