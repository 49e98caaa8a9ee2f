// Command matchmaker pairs clients two by two, as the other versions do (see
// internal/matchapi), and several replicas of it can serve one queue: the
// waiting clients and the counts live in Redis, so alice sent to replica 1
// and bob sent to replica 2 are a pair, and /stats on replica 3 counts them.
//
// SAFE: dequeue-or-enqueue is one Lua script, which Redis runs alone, so no
// two clients, on any replicas, can take the same peer and none can miss
// one; the counts change in the same scripts, so every snapshot of /stats
// balances, whichever replica serves it; a client that gives up leaves in a
// script that either takes it out of the queue or finds that a peer took it
// first, and then it takes that match: one outcome for every client; and a
// Redis that fails is a 503, never a wrong 200. Prove it:
//
//	go test -race ./5_redis/matchmaker
//
// or run a Redis and two replicas, and pair a client on each:
//
//	redis-server --port 6379 --save '' --appendonly no &
//	go run ./5_redis/matchmaker -addr 127.0.0.1:8001 &
//	go run ./5_redis/matchmaker -addr 127.0.0.1:8002 &
//	curl '127.0.0.1:8001/?id=alice' & curl '127.0.0.1:8002/?id=bob'
//	curl 127.0.0.1:8001/stats
//	kill %1 %2 %3
//
// Compare with the mutex version: diff 2_mutex/matchmaker 5_redis/matchmaker.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"concurrencylab/internal/matchapi"
)

// Timeouts of a matchmaker's calls to Redis.
const (
	// scriptWait bounds each script a client runs. The scripts run
	// detached from the client's context: a script cut off halfway by a
	// client that left might have run, and the client would not know
	// whether it was queued or paired. (The client's options bound each
	// command at about a second; this is the backstop.)
	scriptWait = 3 * time.Second
	// subscribeWait bounds New's wait for its subscription.
	subscribeWait = 2 * time.Second
	// leaseGrace is how long a queued entry outlives its client's
	// deadline before a join may sweep it out: a client that could not
	// leave (its replica died, or Redis went away as it left) does not
	// stay queued to be handed out.
	leaseGrace = 5 * time.Second
	// maxLease is the lease of a client whose context has no deadline.
	maxLease = time.Hour
)

// ErrLost is a client's wait that ended with the client neither queued nor
// taken by a peer: Redis lost its place (it restarted empty).
var ErrLost = errors.New("Redis lost this client's place in the queue (did it restart?)")

// Matchmaker is one replica's side of the queue in Redis.
//
// A waiting client holds no Redis connection. go-redis pools ten
// connections per CPU, and 200 clients each blocked in a BLPOP would need
// 200; instead each client borrows a pooled connection for one script at a
// time, and the replica has one pub/sub connection, the dispatcher's, on
// which the peers that take its clients wake them. The join scripts, one
// per client or per batch of clients under load, all run from one
// goroutine, the joiner.
type Matchmaker struct {
	rdb       *redis.Client        // the caller's, who closes it after Close; safe for concurrent use
	replica   string               // random, set by New and read-only: this replica's part of every token
	tokens    atomic.Uint64        // waiters so far: Join takes the next token
	joiner    *joiner              // created by New, stopped by Close: runs the join scripts
	disp      *dispatcher          // created by New, stopped by Close: routes wake-ups to waiters
	closeOnce sync.Once            // Close's
	mu        sync.Mutex           // guards orphans
	orphans   map[*waiter]struct{} // clients that may be left queued after a Redis failure: resubscribed removes them
}

// A waiter is one client, queued or about to be.
type waiter struct {
	token string        // replica:n, unique across replicas
	entry string        // what the queue holds for it, exactly (leave removes it by value)
	wake  chan struct{} // room for one: the dispatcher sends without waiting; only Join receives
}

// New returns a matchmaker over rdb, subscribed to its wake-up channel.
// Call Close when done with it, before closing rdb.
func New(ctx context.Context, rdb *redis.Client) (*Matchmaker, error) {
	m := &Matchmaker{rdb: rdb, replica: rand.Text(), orphans: make(map[*waiter]struct{})}
	ctx, cancel := context.WithTimeout(ctx, subscribeWait)
	defer cancel()
	disp, err := startDispatcher(ctx, rdb, wakeChannel(m.replica), m.resubscribed)
	if err != nil {
		return nil, err
	}
	m.disp, m.joiner = disp, startJoiner(rdb)
	return m, nil
}

// Close stops the joiner and the dispatcher; a Join after it is
// ErrClosed. Call it when the server has answered every client. A second
// Close is harmless.
func (m *Matchmaker) Close() {
	m.closeOnce.Do(func() {
		m.joiner.close()
		m.disp.close()
	})
}

func (m *Matchmaker) Join(ctx context.Context, id string) (matchapi.Match, error) {
	w := m.newWaiter(ctx, id)
	m.disp.add(w) // before the join script: a peer may wake w at once
	defer m.disp.remove(w)

	j := m.joiner.join(w, id)
	switch {
	case errors.Is(j.err, ErrClosed):
		return matchapi.Match{}, j.err
	case j.err != nil:
		m.orphan(w) // the script may have run, and queued w
		return matchapi.Match{}, j.err
	case j.paired:
		return j.match, nil
	}
	for {
		select {
		case <-w.wake:
			sctx, cancel := detached(ctx)
			out, match, err := takeMatch(sctx, m.rdb, w)
			cancel()
			if match, done, err := m.settle(w, out, match, err); done {
				return match, err
			}
			// Still waiting: woken after the dispatcher subscribed again.
		case <-ctx.Done():
			return m.leave(ctx, w)
		}
	}
}

// settle is what a script's outcome for w means for its Join: its pair,
// or its error, and done; or, still queued, not done. A script that failed
// may have run, so w is left for the dispatcher to clean up (orphan).
func (m *Matchmaker) settle(w *waiter, out outcome, match matchapi.Match, err error) (matchapi.Match, bool, error) {
	switch {
	case err != nil:
		m.orphan(w)
		return matchapi.Match{}, true, err
	case out == taken:
		return match, true, nil
	case out == lost:
		return matchapi.Match{}, true, ErrLost
	}
	return matchapi.Match{}, false, nil
}

// leave takes w, whose ctx has ended, out of the queue, counting why it
// left; or, if a peer took it first, returns that match.
func (m *Matchmaker) leave(ctx context.Context, w *waiter) (matchapi.Match, error) {
	field := "canceled"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		field = "timed_out"
	}
	sctx, cancel := detached(ctx)
	defer cancel()
	out, match, err := runLeave(sctx, m.rdb, w, field)
	// taken: a peer took w just as ctx ended, and w has its pair.
	if match, done, err := m.settle(w, out, match, err); done {
		return match, err
	}
	return matchapi.Match{}, ctx.Err() // left, or swept: counted either way
}

func (m *Matchmaker) Stats(ctx context.Context) (matchapi.Stats, error) {
	return readStats(ctx, m.rdb)
}

// newWaiter gives the client id a token and its queue entry, with a lease
// that ends leaseGrace after ctx's deadline.
func (m *Matchmaker) newWaiter(ctx context.Context, id string) *waiter {
	token := m.replica + ":" + strconv.FormatUint(m.tokens.Add(1), 10)
	expires := time.Now().Add(maxLease)
	if deadline, ok := ctx.Deadline(); ok {
		expires = deadline.Add(leaseGrace)
	}
	return &waiter{token: token, entry: newEntry(expires, token, id), wake: make(chan struct{}, 1)}
}

// detached is the context a client's script runs under: not canceled when
// the client leaves, and bounded by scriptWait.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), scriptWait)
}

// orphan records w, whose script failed: it may be left queued, to be
// handed out to a peer although it has gone. The dispatcher's next
// subscription removes it (see resubscribed); if none comes, its lease
// runs out and a join sweeps it out.
func (m *Matchmaker) orphan(w *waiter) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.orphans[w] = struct{}{}
}

// resubscribed runs on the dispatcher's goroutine each time it has
// subscribed, at first and after Redis came back. A wake-up published
// while it was not subscribed is lost, so it wakes every waiter to look
// for its match; and it takes the orphans out of the queue, counted as
// canceled (their clients got a 503, or had gone).
func (m *Matchmaker) resubscribed(ctx context.Context) {
	m.disp.wakeAll()
	m.mu.Lock()
	orphans := make([]*waiter, 0, len(m.orphans))
	for w := range m.orphans {
		orphans = append(orphans, w)
	}
	m.mu.Unlock()
	for _, w := range orphans {
		sctx, cancel := context.WithTimeout(ctx, scriptWait)
		_, _, err := runLeave(sctx, m.rdb, w, "canceled")
		cancel()
		if err != nil {
			return // Redis failed again: the next subscription tries again
		}
		m.mu.Lock()
		delete(m.orphans, w)
		m.mu.Unlock()
	}
}
