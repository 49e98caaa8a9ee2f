// Command notifier is a REST store of resources that announces every change
// to every websocket subscriber (see internal/notifyapi). One owner
// goroutine holds the set of subscribers; handlers send it commands on
// channels, as in gorilla/websocket's chat example.
//
// SAFE: the seed's design, fixed as its answer says and then some. A reader
// goroutine per connection notices when it ends and unregisters it, instead
// of waiting for a CloseNotify that never comes after the upgrade. And the
// publisher never waits for a subscriber: the owner only offers
// each one the event on a bounded queue, which a writer goroutine per
// connection empties; a subscriber whose queue is full is dropped. Pings,
// and read and write deadlines, find clients that vanished or stopped
// reading. Only the owner can reach the set and the counts (they are
// declared inside it), and it runs one command at a time. Prove it:
//
//	go test -race ./3_channel-commands/notifier
//
// or watch it: two subscribers, one leaves, and changes still go through.
//
//	go run ./3_channel-commands/notifier &
//	go run ./internal/subscribe      # in two more terminals; then Ctrl-C one
//	curl 127.0.0.1:8000/stats        # one subscriber
//	curl -d '{"name":"a"}' 127.0.0.1:8000/resources
//	kill %1                          # stops go run and the server with it
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

// Hub holds the channels to the owner goroutine, never the set of
// subscribers.
type Hub struct {
	registers   chan register              // Register sends; the owner receives
	unregisters chan *notifyapi.Subscriber // Unregister sends, when a connection ends; the owner receives
	publishes   chan []byte                // Publish sends an event; the owner offers it to every subscriber
	deliveries  chan struct{}              // writers send one per event written (Delivered); the owner counts
	snapshots   chan snapshot              // Stats sends; the owner receives
	shutdowns   chan struct{}              // Shutdown sends; the owner says goodbye to everyone
	stop        chan struct{}              // closed by Close to end the owner
	done        chan struct{}              // closed by the owner when it has returned
	closeOnce   sync.Once                  // Close closes stop once
}

// register asks the owner to add s.
type register struct {
	s     *notifyapi.Subscriber
	reply chan error // room for one: nil, or ErrShuttingDown
}

// snapshot asks the owner for the counts.
type snapshot struct {
	reply chan notifyapi.Stats // room for one
}

// NewHub starts the owner goroutine with no subscribers. Close stops it.
func NewHub() *Hub {
	h := &Hub{
		registers: make(chan register), unregisters: make(chan *notifyapi.Subscriber),
		publishes: make(chan []byte), deliveries: make(chan struct{}),
		snapshots: make(chan snapshot), shutdowns: make(chan struct{}),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	go h.run()
	return h
}

// run is the owner goroutine. It declares the set and the counts, so nothing
// else can reach them, and runs one command at a time until stop closes;
// then it says goodbye to the subscribers left.
func (h *Hub) run() {
	defer close(h.done)
	subscribers := make(map[*notifyapi.Subscriber]struct{})
	var stats notifyapi.Stats // Subscribers is left at 0: it is len(subscribers)
	shutDown := false         // no more subscribers
	// remove takes s out of the set, if it is there, and ends its queue
	// with goodbye: membership is what makes End happen once.
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
		case r := <-h.registers:
			if shutDown {
				r.reply <- notifyapi.ErrShuttingDown
				break
			}
			subscribers[r.s] = struct{}{}
			r.reply <- nil
		case s := <-h.unregisters:
			remove(s, nil)
		case msg := <-h.publishes:
			stats.Published++
			for s := range subscribers {
				if !s.Offer(msg) {
					remove(s, notifyapi.GoodbyeTooSlow)
					stats.Dropped++
				}
			}
		case <-h.deliveries:
			stats.Delivered++
		case c := <-h.snapshots:
			s := stats
			s.Subscribers = int64(len(subscribers))
			c.reply <- s
		case <-h.shutdowns:
			shutDown = true
			for s := range subscribers {
				remove(s, notifyapi.GoodbyeShuttingDown)
			}
		}
	}
}

// Close stops the owner and waits until it has returned; the owner says
// goodbye to every subscriber as it stops. Calls after Close return
// ErrClosed or do nothing.
func (h *Hub) Close() {
	h.closeOnce.Do(func() { close(h.stop) })
	<-h.done
}

func (h *Hub) Register(s *notifyapi.Subscriber) error {
	r := register{s: s, reply: make(chan error, 1)}
	select {
	case h.registers <- r:
		return <-r.reply
	case <-h.done:
		return ErrClosed
	}
}

func (h *Hub) Unregister(s *notifyapi.Subscriber) {
	select {
	case h.unregisters <- s:
	case <-h.done:
	}
}

// Publish returns once the owner has the event; the owner offers it to every
// subscriber before it takes the next command, so every subscriber gets the
// events in the order they are published.
func (h *Hub) Publish(msg []byte) error {
	select {
	case h.publishes <- msg:
		return nil
	case <-h.done:
		return ErrClosed
	}
}

func (h *Hub) Delivered() {
	select {
	case h.deliveries <- struct{}{}:
	case <-h.done:
	}
}

// Stats gives up if ctx ends (the client has gone) before the owner takes
// its command; once taken, the answer comes at once.
func (h *Hub) Stats(ctx context.Context) (notifyapi.Stats, error) {
	c := snapshot{reply: make(chan notifyapi.Stats, 1)}
	select {
	case h.snapshots <- c:
		return <-c.reply, nil
	case <-ctx.Done():
		return notifyapi.Stats{}, ctx.Err()
	case <-h.done:
		return notifyapi.Stats{}, ErrClosed
	}
}

func (h *Hub) Shutdown() {
	select {
	case h.shutdowns <- struct{}{}:
	case <-h.done:
	}
}
