// Command notifier is a REST store of resources that announces every change
// to every websocket subscriber (see internal/notifyapi). One hub goroutine
// owns the set of subscribers; handlers send it commands on channels, as in
// gorilla/websocket's chat example.
//
// SAFE: only the hub goroutine can reach the set and the counts (they are
// declared inside it), and it runs one command at a time. A reader
// goroutine per connection notices when it ends and unregisters it; the hub
// never waits for a subscriber: it offers each event on a bounded queue,
// which a writer goroutine per connection empties, and drops a subscriber
// whose queue is full. Prove it:
//
//	go test -race ./3_channel-commands/notifier
//
// or watch it: two subscribers, one leaves, and changes still go through.
//
//	go run ./3_channel-commands/notifier &
//	go run ./internal/subscribe      # in two more terminals; then Ctrl-C one
//	curl 127.0.0.1:8000/stats        # one subscriber
//	curl -d '{"name":"a"}' 127.0.0.1:8000/resources
//
// Compare with the mutex version: diff 2_mutex/notifier 3_channel-commands/notifier.
package main

import (
	"context"
	"errors"
	"sync"

	"concurrencylab/internal/notifyapi"
)

// ErrClosed is returned by calls made after Close.
var ErrClosed = errors.New("hub closed")

// Hub is the handlers' side of the hub goroutine: it holds channels only,
// never the set of subscribers.
type Hub struct {
	register   chan register              // handlers send; the hub receives
	unregister chan *notifyapi.Subscriber // handlers send; the hub receives
	broadcast  chan []byte                // handlers send an event; the hub offers it to every subscriber
	delivered  chan struct{}              // writers send one per event written; the hub counts
	snapshots  chan chan notifyapi.Stats  // handlers send a reply channel; the hub answers on it
	shutdown   chan struct{}              // Shutdown sends; the hub says goodbye to everyone
	stop       chan struct{}              // closed by Close to end the hub
	done       chan struct{}              // closed by the hub when it has returned
	closeOnce  sync.Once                  // Close closes stop once
}

// register asks the hub to add s.
type register struct {
	s   *notifyapi.Subscriber
	err chan error // room for one: nil, or ErrShuttingDown
}

// NewHub starts the hub goroutine with no subscribers. Close stops it.
func NewHub() *Hub {
	h := &Hub{
		register:   make(chan register),
		unregister: make(chan *notifyapi.Subscriber),
		broadcast:  make(chan []byte),
		delivered:  make(chan struct{}),
		snapshots:  make(chan chan notifyapi.Stats),
		shutdown:   make(chan struct{}),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	go h.run()
	return h
}

// run is the hub goroutine. The set and the counts are declared here, and
// nothing else can reach them. It runs one command at a time until stop
// closes, then says goodbye to the subscribers left.
func (h *Hub) run() {
	defer close(h.done)
	subscribers := make(map[*notifyapi.Subscriber]struct{})
	var stats notifyapi.Stats // Subscribers is left at 0: it is len(subscribers)
	shutDown := false         // no more subscribers
	remove := func(s *notifyapi.Subscriber, goodbye []byte) {
		if _, ok := subscribers[s]; ok {
			delete(subscribers, s)
			s.End(goodbye)
		}
	}
	for {
		select {
		case <-h.stop:
			for s := range subscribers {
				remove(s, notifyapi.GoodbyeShuttingDown)
			}
			return
		case r := <-h.register:
			if shutDown {
				r.err <- notifyapi.ErrShuttingDown
				break
			}
			subscribers[r.s] = struct{}{}
			r.err <- nil
		case s := <-h.unregister:
			remove(s, nil)
		case msg := <-h.broadcast:
			stats.Published++
			for s := range subscribers {
				if !s.Offer(msg) {
					remove(s, notifyapi.GoodbyeTooSlow)
					stats.Dropped++
				}
			}
		case <-h.delivered:
			stats.Delivered++
		case reply := <-h.snapshots:
			s := stats
			s.Subscribers = int64(len(subscribers))
			reply <- s
		case <-h.shutdown:
			shutDown = true
			for s := range subscribers {
				remove(s, notifyapi.GoodbyeShuttingDown)
			}
		}
	}
}

// Close says goodbye to every subscriber, stops the hub and waits until it
// has returned. Calls after Close return ErrClosed or do nothing.
func (h *Hub) Close() {
	h.closeOnce.Do(func() { close(h.stop) })
	<-h.done
}

func (h *Hub) Register(s *notifyapi.Subscriber) error {
	r := register{s: s, err: make(chan error, 1)}
	select {
	case h.register <- r:
		return <-r.err
	case <-h.done:
		return ErrClosed
	}
}

func (h *Hub) Unregister(s *notifyapi.Subscriber) {
	select {
	case h.unregister <- s:
	case <-h.done:
	}
}

// Publish returns once the hub has the event; the hub offers it to every
// subscriber before it takes the next command, so every subscriber gets the
// events in the order they are published.
func (h *Hub) Publish(msg []byte) error {
	select {
	case h.broadcast <- msg:
		return nil
	case <-h.done:
		return ErrClosed
	}
}

func (h *Hub) Delivered() {
	select {
	case h.delivered <- struct{}{}:
	case <-h.done:
	}
}

func (h *Hub) Stats(ctx context.Context) (notifyapi.Stats, error) {
	reply := make(chan notifyapi.Stats, 1)
	select {
	case h.snapshots <- reply:
		return <-reply, nil
	case <-ctx.Done():
		return notifyapi.Stats{}, ctx.Err()
	case <-h.done:
		return notifyapi.Stats{}, ErrClosed
	}
}

func (h *Hub) Shutdown() {
	select {
	case h.shutdown <- struct{}{}:
	case <-h.done:
	}
}
