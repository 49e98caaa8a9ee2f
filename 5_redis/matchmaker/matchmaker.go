// Command matchmaker pairs clients two by two, as the other versions do (see
// internal/matchapi), and its replicas share one queue: the waiting clients
// and the counts live in Redis, so alice sent to replica 1 and bob sent to
// replica 2 are a pair, and /stats on replica 3 counts them.
//
// SAFE: dequeue-or-enqueue is one Lua script (join.lua), which Redis runs
// alone, so no two clients, on any replicas, can take the same peer and none
// can miss one; the counts change in the same scripts, so /stats balances.
// A waiter learns its peer through Redis: the client that takes it pushes
// the match into the waiter's mailbox, a list it waits on with BLPOP. One
// that gives up leaves in a script (leave.lua) that takes it off the queue
// or finds that a peer took it first: one outcome for every client. What
// production adds (a replica that dies, a Redis that fails: a 503, never a
// wrong 200) is in hardening.go. Prove it; or serve it from three replicas
// behind a proxy on :8000, with a Redis, and load it (go tool hey):
//
//	go test -race ./5_redis/matchmaker
//	go run ./loadtest/cluster 5_redis/matchmaker
//
// Compare with the mutex version: diff 2_mutex/matchmaker 5_redis/matchmaker
// (the critical section moves into Redis, the channel becomes a mailbox).
package main

import (
	"cmp"
	"context"
	"crypto/rand"
	_ "embed"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"concurrencylab/internal/matchapi"
)

// Matchmaker is one replica's side of the queue: it has no state to guard.
type Matchmaker struct {
	rdb *redis.Client // the caller's, made with Options; safe for concurrent use
}

// A waiter is one client, queued or about to be.
type waiter struct {
	token     string    // random, unique across replicas: names its keys in Redis
	id        string    // the client's
	leaseEnds time.Time // read and written only by its Join (hardening.go)
}

// The state in Redis, every key under keyPrefix:
//
//	matchmaker:queue         list: the waiting clients' tokens, first come first
//	matchmaker:stats         hash: requests, paired, timed_out, canceled
//	matchmaker:waiter:TOKEN  string: a waiting client's id, while its lease lasts
//	matchmaker:match:TOKEN   list: a client's mailbox, where the peer that
//	                         takes it pushes the match, "pair-number peer-id"
const (
	keyPrefix = "matchmaker:"
	queueKey  = keyPrefix + "queue"
	statsKey  = keyPrefix + "stats"
)

func waiterKey(token string) string  { return keyPrefix + "waiter:" + token }
func mailboxKey(token string) string { return keyPrefix + "match:" + token }

var (
	//go:embed join.lua
	joinLua    string
	joinScript = redis.NewScript(joinLua)
	//go:embed leave.lua
	leaveLua    string
	leaveScript = redis.NewScript(leaveLua)
)

// NewMatchmaker returns a matchmaker over rdb, a client made with Options.
func NewMatchmaker(rdb *redis.Client) *Matchmaker {
	return &Matchmaker{rdb: rdb}
}

func (m *Matchmaker) Join(ctx context.Context, id string) (matchapi.Match, error) {
	w := &waiter{token: rand.Text(), id: id}
	match, paired, err := m.dequeueOrEnqueue(w)
	switch {
	case err != nil:
		return m.settle(ctx, w, err) // the script may have run (hardening.go)
	case paired:
		m.dropCopy(w)
		return match, nil
	}
	return m.wait(ctx, w)
}

// dequeueOrEnqueue is the one critical section, moved to where the state
// is: join.lua takes the first waiting client off the queue, pairs it with
// w and pushes the match into its mailbox; or, if nobody waits, queues w.
func (m *Matchmaker) dequeueOrEnqueue(w *waiter) (match matchapi.Match, paired bool, err error) {
	reply, err := joinScript.Run(context.Background(), m.rdb, []string{queueKey, statsKey},
		w.token, w.id, keyPrefix, leaseTTL.Milliseconds(), matchTTL.Milliseconds()).Text()
	w.leaseEnds = time.Now().Add(leaseTTL)
	if errors.Is(err, redis.Nil) {
		return matchapi.Match{}, false, nil // queued
	}
	return parseMatch(reply), err == nil, err
}

// wait waits in BLPOP for a peer to push w's match into its mailbox; once
// ctx has ended, w leaves. BLPOP returns every renewEvery, for w to see ctx
// and renew its lease, and at once when ctx ends (wake, hardening.go).
func (m *Matchmaker) wait(ctx context.Context, w *waiter) (matchapi.Match, error) {
	defer context.AfterFunc(ctx, func() { m.wake(w) })()
	for {
		var reply []string // nil if nothing came
		err := w.retry(func() (err error) {
			reply, err = m.rdb.BLPop(context.Background(), renewEvery, mailboxKey(w.token), wakeKey(w.token)).Result()
			return err
		})
		switch {
		case err != nil:
			return matchapi.Match{}, cmp.Or(ctx.Err(), err)
		case reply != nil && reply[0] == mailboxKey(w.token):
			return parseMatch(reply[1]), nil
		case ctx.Err() != nil || !m.renew(w): // a lease gone: leave finds why
			return m.leave(ctx, w)
		}
	}
}

// leave runs leave.lua for w, whose wait has ended: it takes w off the
// queue, counted by why, or finds that a peer took w first: its match.
func (m *Matchmaker) leave(ctx context.Context, w *waiter) (matchapi.Match, error) {
	why := "canceled"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		why = "timed_out"
	}
	keys := []string{queueKey, statsKey, waiterKey(w.token), mailboxKey(w.token)}
	var reply string
	err := w.retry(func() (err error) {
		reply, err = leaveScript.Run(context.Background(), m.rdb, keys, w.token, why).Text()
		return err
	})
	if err != nil || reply == "" || reply == "left" { // "": neither left nor taken
		return matchapi.Match{}, cmp.Or(ctx.Err(), err, ErrLost)
	}
	return parseMatch(reply), nil
}

// Stats reads the counts and the queue's length in one MULTI/EXEC
// transaction: a consistent snapshot.
func (m *Matchmaker) Stats(ctx context.Context) (matchapi.Stats, error) {
	var counts *redis.MapStringStringCmd
	var waiting *redis.IntCmd
	_, err := m.rdb.TxPipelined(ctx, func(tx redis.Pipeliner) error {
		counts, waiting = tx.HGetAll(ctx, statsKey), tx.LLen(ctx, queueKey)
		return nil
	})
	count := func(field string) int64 {
		n, _ := strconv.ParseInt(counts.Val()[field], 10, 64) // 0 if not counted yet
		return n
	}
	return matchapi.Stats{Requests: count("requests"), Paired: count("paired"), TimedOut: count("timed_out"),
		Canceled: count("canceled"), Waiting: waiting.Val()}, err
}

// parseMatch reads a match as the scripts write it: "pair-number peer-id".
func parseMatch(s string) matchapi.Match {
	n, peer, _ := strings.Cut(s, " ")
	return matchapi.Match{Peer: peer, PairID: n}
}
