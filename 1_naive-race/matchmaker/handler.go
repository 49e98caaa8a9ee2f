// Command matchmaker pairs clients two by two: GET / waits until another
// client asks, then both get each other's id (see internal/matchapi). This
// is the seed's design, kept as it was written.
//
// BROKEN ON PURPOSE, in the two ways the seed found:
//
//   - Check-then-act. The goroutine each request starts asks the queue's
//     Len() and then, under a second lock, calls Dequeue() or Enqueue().
//     Between the two, other requests dequeue too: two of them see one
//     waiting client, both dequeue, and the second panics with
//     "index out of range [0] with length 0". The panic is in a goroutine
//     that no handler runs, so nothing recovers it: the process dies.
//   - Writing someone else's response. The goroutine that pairs two clients
//     writes both responses, and a client that gave up (timed out or went
//     away) is never taken off the queue. When the next client is paired
//     with it, its handler has finished: over HTTP/2 that panics with
//     "WriteHeader called after Handler finished" and kills the process;
//     over HTTP/1 the peer is told the id of a client that has gone. Under
//     -race, it is a data race on the ResponseWriter.
//
// See it die under the seed's load:
//
//	go run ./1_naive-race/matchmaker &
//	go tool hey -n 20000 -c 200 http://127.0.0.1:8000/
//	kill %1    # if it survived: stops go run and the server with it
//
// and prove both with: go test -race ./1_naive-race/matchmaker
//
// Because it keeps the seed's own design (a ClientQueue, and handlers of its
// own), diff 1_naive-race/matchmaker 2_mutex/matchmaker is a rewrite, not
// one idea: read this version for its bugs. The diffs that teach start at
// the fix: diff 2_mutex/matchmaker 3_channel-commands/matchmaker (the lock
// becomes an owner goroutine) and diff 2_mutex/matchmaker 5_redis/matchmaker
// (the critical section moves into Redis).
package main

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"time"

	"concurrencylab/internal/matchapi"
)

// matchmaker is the seed's server: its queue, and the lab's contract around
// it (ids, the pair id, /stats, timeouts).
type matchmaker struct {
	queue  *ClientQueue
	waits  *matchapi.Waits
	router http.Handler

	// The counts for /stats. They are atomic so that they add no race of
	// their own; each is right, but a snapshot of all five is not.
	requests, pairs, timedOut, canceled atomic.Int64
}

func newMatchmaker(pairTimeout time.Duration) *matchmaker {
	m := &matchmaker{queue: NewClientQueue(), waits: matchapi.NewWaits(pairTimeout)}
	m.router = matchapi.NewRouter(m.handleFindPeer, m.stats)
	return m
}

func (m *matchmaker) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.router.ServeHTTP(w, r) }

// Shutdown ends every wait, now and later.
func (m *matchmaker) Shutdown() { m.waits.Shutdown() }

func (m *matchmaker) handleFindPeer(w http.ResponseWriter, r *http.Request) {
	id, ok := matchapi.ClientID(w, r)
	if !ok {
		return
	}
	client := Client{
		addr:          id,
		pairID:        matchapi.PairID(m.requests.Add(1)),
		respWriter:    w,
		peerMatchedCh: make(chan struct{}),
	}
	// If this client waits, the peer that takes it hands this pair id out
	// too.
	w.Header().Set(matchapi.PairIDHeader, client.pairID)
	ctx, cancel := m.waits.Context(r)
	defer cancel()

	go func() {
		if m.queue.Len() > 0 {
			peer := m.queue.Dequeue()
			m.sendPairingResponse(client, peer)
			close(client.peerMatchedCh)
			close(peer.peerMatchedCh)
		} else {
			m.queue.Enqueue(client)
		}
	}()

	select {
	case <-client.peerMatchedCh:
		return
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			m.timedOut.Add(1)
		} else {
			m.canceled.Add(1)
		}
		matchapi.GiveUp(ctx, w, ctx.Err())
	}
}

// sendPairingResponse answers both clients of a pair, c1 the one that has
// just come and c2 the one that was waiting, from the goroutine that
// paired them.
func (m *matchmaker) sendPairingResponse(c1, c2 Client) {
	m.pairs.Add(1)
	c1.respWriter.Header().Set(matchapi.PairIDHeader, c2.pairID) // c2's handler set its own
	c1.respWriter.WriteHeader(http.StatusOK)
	c2.respWriter.WriteHeader(http.StatusOK)
	c1.respWriter.Write([]byte(c2.addr + "\n"))
	c2.respWriter.Write([]byte(c1.addr + "\n"))
}

func (m *matchmaker) stats(context.Context) (matchapi.Stats, error) {
	return matchapi.Stats{
		Requests: m.requests.Load(),
		Waiting:  int64(m.queue.Len()),
		Paired:   m.pairs.Load(),
		TimedOut: m.timedOut.Load(),
		Canceled: m.canceled.Load(),
	}, nil
}

// Close stops nothing: the seed starts no goroutine that outlives a
// request. A fix that starts one (an owner of the queue, say) stops it
// here, and waits for it to return; the tests call Close at the end of
// every scenario.
func (m *matchmaker) Close() {}
