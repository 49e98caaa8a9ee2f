// Command matchmaker pairs clients two by two: GET / waits until another
// client asks, then both get each other's id (see internal/matchapi). One
// owner goroutine holds the waiting queue; handlers send it join and leave
// commands, each with a channel for the answer.
//
// SAFE: only the owner can reach the queue (it is declared inside the
// owner), and the owner runs one command at a time, so a join dequeues a
// peer or enqueues the caller in one step, and a leave either takes the
// client off the queue or finds that a peer already took it. Prove it:
//
//	go test -race ./3_channel-commands/matchmaker
//
// or run it and hammer it: /stats balances, and every request is paired but
// for, now and then, a last few that hey's last worker sends with nobody left
// to pair them with (see docs/reference.md).
//
//	go run ./3_channel-commands/matchmaker &
//	go tool hey -n 20000 -c 200 http://127.0.0.1:8000/
//	curl 127.0.0.1:8000/stats
//	kill %1    # stops go run and the server with it
//
// Compare with the mutex version: diff 2_mutex/matchmaker 3_channel-commands/matchmaker.
package main

import (
	"context"
	"errors"
	"slices"
	"sync"

	"concurrencylab/internal/matchapi"
)

// ErrClosed is returned by calls made after Close.
var ErrClosed = errors.New("matchmaker closed")

// Matchmaker holds the channels to the owner goroutine, never the queue.
type Matchmaker struct {
	joins     chan join     // Join sends; the owner receives
	leaves    chan leave    // Join sends, for a client that gives up; the owner receives
	snapshots chan snapshot // Stats sends; the owner receives
	stop      chan struct{} // closed by Close to end the owner
	done      chan struct{} // closed by the owner when it has returned
	closeOnce sync.Once     // Close closes stop once
}

// join asks for a peer for id.
type join struct {
	id    string
	reply chan matchapi.Match // room for one: the owner sends without waiting, at once or when a peer comes
}

// leave asks the owner to take a waiting client off the queue.
type leave struct {
	client chan matchapi.Match // the client's join.reply: who is leaving
	err    error               // why: its context's error
	reply  chan bool           // room for one; false means a peer took the client first
}

// snapshot asks the owner for the counts.
type snapshot struct {
	reply chan matchapi.Stats // room for one
}

// NewMatchmaker starts the owner goroutine with nobody waiting. Close stops
// it.
func NewMatchmaker() *Matchmaker {
	m := &Matchmaker{
		joins: make(chan join), leaves: make(chan leave), snapshots: make(chan snapshot),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	go m.run()
	return m
}

// run is the owner goroutine. It declares the queue and the counts, so
// nothing else can reach them, and runs one command at a time until stop
// closes.
func (m *Matchmaker) run() {
	defer close(m.done)
	var queue []join         // waiting clients, first come first
	var stats matchapi.Stats // Waiting is left at 0: it is len(queue)
	for {
		select {
		case <-m.stop:
			return
		case j := <-m.joins:
			stats.Requests++
			if len(queue) == 0 {
				queue = append(queue, j)
				break
			}
			peer := queue[0]
			queue = queue[1:]
			stats.Paired++
			pairID := matchapi.PairID(stats.Paired)
			peer.reply <- matchapi.Match{Peer: j.id, PairID: pairID}
			j.reply <- matchapi.Match{Peer: peer.id, PairID: pairID}
		case l := <-m.leaves:
			i := slices.IndexFunc(queue, func(j join) bool { return j.reply == l.client })
			if i < 0 {
				l.reply <- false
				break
			}
			queue = slices.Delete(queue, i, i+1)
			if errors.Is(l.err, context.DeadlineExceeded) {
				stats.TimedOut++
			} else {
				stats.Canceled++
			}
			l.reply <- true
		case c := <-m.snapshots:
			s := stats
			s.Waiting = int64(len(queue))
			c.reply <- s
		}
	}
}

// Close stops the owner and waits until it has returned. Calls after Close
// return ErrClosed.
func (m *Matchmaker) Close() {
	m.closeOnce.Do(func() { close(m.stop) })
	<-m.done
}

func (m *Matchmaker) Join(ctx context.Context, id string) (matchapi.Match, error) {
	j := join{id: id, reply: make(chan matchapi.Match, 1)}
	// A client whose ctx ends while the owner is busy gives up, unseen. One
	// whose ctx had ended before it came (at shutdown) is still handed to
	// the owner, which never blocks for long, so that it is counted as the
	// mutex version counts it: were ctx.Done in the select, a select with
	// two cases ready would pick one at random.
	giveUp := ctx.Done()
	if ctx.Err() != nil {
		giveUp = nil // a nil channel is never ready
	}
	select {
	case m.joins <- j:
	case <-giveUp:
		return matchapi.Match{}, ctx.Err() // the owner never saw this client
	case <-m.done:
		return matchapi.Match{}, ErrClosed
	}
	select {
	case match := <-j.reply:
		return match, nil
	case <-ctx.Done():
	case <-m.done:
		return matchapi.Match{}, ErrClosed
	}
	l := leave{client: j.reply, err: ctx.Err(), reply: make(chan bool, 1)}
	select {
	case m.leaves <- l:
	case <-m.done:
		return matchapi.Match{}, ErrClosed
	}
	if <-l.reply {
		return matchapi.Match{}, ctx.Err()
	}
	// A peer took this client just as ctx ended, and the owner has already
	// sent the match.
	return <-j.reply, nil
}

// Stats gives up if ctx ends (the client has gone) before the owner takes
// its command; once taken, the answer comes at once.
func (m *Matchmaker) Stats(ctx context.Context) (matchapi.Stats, error) {
	c := snapshot{reply: make(chan matchapi.Stats, 1)}
	select {
	case m.snapshots <- c:
		return <-c.reply, nil
	case <-ctx.Done():
		return matchapi.Stats{}, ctx.Err()
	case <-m.done:
		return matchapi.Stats{}, ErrClosed
	}
}
