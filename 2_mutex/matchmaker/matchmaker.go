// Command matchmaker pairs clients two by two: GET / waits until another
// client asks, then both get each other's id (see internal/matchapi). The
// waiting queue is guarded by a sync.Mutex.
//
// SAFE: one critical section dequeues a waiting peer or enqueues the caller
// (the seed answer's DequeueOrEnqueue), so no two clients can take the same
// peer and none can miss one; a client that gives up leaves the queue under
// the same lock, so it is never handed out after it has gone; and each
// handler writes only its own response. Prove it:
//
//	go test -race ./2_mutex/matchmaker
//
// or run it and hammer it: /stats balances, and every request is paired but
// for, now and then, a last few that hey's last worker sends with nobody left
// to pair them with (see docs/reference.md).
//
//	go run ./2_mutex/matchmaker &
//	go tool hey -n 20000 -c 200 http://127.0.0.1:8000/
//	curl 127.0.0.1:8000/stats
//	kill %1    # stops go run and the server with it
//
// Compare with the channel version, whose owner goroutine holds the queue
// instead of a lock: diff 2_mutex/matchmaker 3_channel-commands/matchmaker.
// (The naive version keeps its seed's own design, so its diff with this one
// is a rewrite: read it for its bugs.)
package main

import (
	"context"
	"errors"
	"slices"
	"sync"

	"concurrencylab/internal/matchapi"
)

// Matchmaker holds the waiting clients behind a mutex.
type Matchmaker struct {
	mu    sync.Mutex     // guards queue and stats
	queue []*waiter      // waiting clients, first come first; read and written only with mu held
	stats matchapi.Stats // read and written only with mu held; Waiting is left at 0: it is len(queue)
}

// A waiter is one client in the queue.
type waiter struct {
	id    string
	match chan matchapi.Match // room for one: the peer that takes this waiter sends without waiting
}

// NewMatchmaker returns a matchmaker with nobody waiting.
func NewMatchmaker() *Matchmaker {
	return &Matchmaker{}
}

func (m *Matchmaker) Join(ctx context.Context, id string) (matchapi.Match, error) {
	w, match, paired := m.dequeueOrEnqueue(id)
	if paired {
		return match, nil
	}
	select {
	case match := <-w.match:
		return match, nil
	case <-ctx.Done():
		if m.leave(w, ctx.Err()) {
			return matchapi.Match{}, ctx.Err()
		}
		// A peer took w just as ctx ended, and has already sent the match.
		return <-w.match, nil
	}
}

// dequeueOrEnqueue is the one critical section: if a client is waiting, it
// takes it off the queue and pairs it with id; if not, it queues id. The
// check and the act happen under one lock.
func (m *Matchmaker) dequeueOrEnqueue(id string) (w *waiter, match matchapi.Match, paired bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stats.Requests++
	if len(m.queue) == 0 {
		w = &waiter{id: id, match: make(chan matchapi.Match, 1)}
		m.queue = append(m.queue, w)
		return w, matchapi.Match{}, false
	}
	peer := m.queue[0]
	m.queue = m.queue[1:]
	m.stats.Paired++
	pairID := matchapi.PairID(m.stats.Paired)
	peer.match <- matchapi.Match{Peer: id, PairID: pairID}
	return nil, matchapi.Match{Peer: peer.id, PairID: pairID}, true
}

// leave takes w off the queue, counting why it left (err is its context's
// error), and reports whether it was still there to take: false means a
// peer took it first.
func (m *Matchmaker) leave(w *waiter, err error) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.Index(m.queue, w)
	if i < 0 {
		return false
	}
	m.queue = slices.Delete(m.queue, i, i+1)
	if errors.Is(err, context.DeadlineExceeded) {
		m.stats.TimedOut++
	} else {
		m.stats.Canceled++
	}
	return true
}

func (m *Matchmaker) Stats(context.Context) (matchapi.Stats, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.stats
	s.Waiting = int64(len(m.queue))
	return s, nil
}
