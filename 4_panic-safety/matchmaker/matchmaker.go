// Command matchmaker is the mutex matchmaker (2_mutex/matchmaker) with a
// latent bug, served behind crash-on-panic middleware
// (4_panic-safety/crashonpanic).
//
// A LATENT BUG, ON PURPOSE: an id may end in a place, "alice@home", and the
// matchmaker folds the place's first letter to lower case
// (4_panic-safety/place), so that "alice@Home" is the same client. An id
// with an empty place, "alice@", panics inside the critical section, after the request is counted and
// before the client is queued or paired: slice bounds out of range [:1].
// Recovered, as net/http would, that leaves /stats counting a client that
// has no outcome: it never balances again. The poison:
//
//	go run ./4_panic-safety/matchmaker &
//	curl '127.0.0.1:8000/?id=alice@'
//	kill %1    # if it still runs: stops go run and the server with it
//
// Instead the middleware logs the panic and its stack and exits with status
// 70, and a supervisor (see docs/matchmaker.service) starts a clean process.
// Prove it, child process, exit code, restart and all:
// go test ./4_panic-safety/matchmaker
//
// Compare with the mutex version, which has no poison and no middleware:
// diff 2_mutex/matchmaker 4_panic-safety/matchmaker.
package main

import (
	"context"
	"errors"
	"slices"
	"sync"

	"concurrencylab/4_panic-safety/place"
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
	id = place.Fold(id)
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
