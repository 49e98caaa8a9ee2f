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

// Matchmaker is one replica's side of the queue. It has no state of its own
// to guard: the queue and the counts are in Redis, which runs one script at
// a time.
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
//	matchmaker:wake:TOKEN    list: where a client's Join pushes when its ctx ends
const (
	keyPrefix = "matchmaker:"
	queueKey  = keyPrefix + "queue"
	statsKey  = keyPrefix + "stats"
)

func waiterKey(token string) string  { return keyPrefix + "waiter:" + token }
func mailboxKey(token string) string { return keyPrefix + "match:" + token }
func wakeKey(token string) string    { return keyPrefix + "wake:" + token }

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
	case err != nil && !mayHaveRun(err):
		return matchapi.Match{}, err // Redis never saw it
	case paired:
		m.dropCopy(w)
		return match, nil
	}
	return m.wait(ctx, w) // queued; or, if err, it may have been: wait finds out
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

// wait waits for a peer to take w: it blocks in BLPOP on w's mailbox, where
// the peer pushes the match, and on its wake-up list, where wake pushes
// once ctx has ended; then w leaves. Between two BLPOPs w renews its lease,
// and if Redis fails, it tries again (hardening.go).
func (m *Matchmaker) wait(ctx context.Context, w *waiter) (matchapi.Match, error) {
	defer context.AfterFunc(ctx, func() { m.wake(w) })()
	for {
		began := time.Now()
		match, taken, err := m.receive(ctx, w)
		stay := err == nil && !taken && ctx.Err() == nil
		if stay {
			stay, err = m.renew(w) // false: its lease is gone; leave finds why
		}
		if err == nil && !taken && !stay {
			match, taken, err = m.leave(ctx, w)
			if err == nil && !taken {
				return matchapi.Match{}, cmp.Or(ctx.Err(), ErrLost)
			}
		}
		if taken {
			return match, nil
		}
		if err := w.pause(began, err); err != nil {
			return matchapi.Match{}, cmp.Or(ctx.Err(), err)
		}
	}
}

// receive takes w's match from its mailbox: it waits for one until ctx
// ends, or for renewEvery. taken is false if none came.
func (m *Matchmaker) receive(ctx context.Context, w *waiter) (match matchapi.Match, taken bool, err error) {
	if ctx.Err() != nil {
		return matchapi.Match{}, false, nil
	}
	reply, err := m.rdb.BLPop(context.Background(), renewEvery, mailboxKey(w.token), wakeKey(w.token)).Result()
	if err != nil || reply[0] != mailboxKey(w.token) {
		return matchapi.Match{}, false, ignoreNil(err) // nil: none came, or it was woken
	}
	return parseMatch(reply[1]), true, nil
}

// wake wakes w's Join from its BLPOP: ctx has ended.
func (m *Matchmaker) wake(w *waiter) {
	m.rdb.TxPipelined(context.Background(), func(tx redis.Pipeliner) error {
		tx.RPush(context.Background(), wakeKey(w.token), "ctx ended")
		tx.PExpire(context.Background(), wakeKey(w.token), leaseTTL) // if w has gone
		return nil
	})
}

// leave runs leave.lua for w: it takes w off the queue, counted by why its
// wait ended, or finds that a peer took w first, and returns that match.
func (m *Matchmaker) leave(ctx context.Context, w *waiter) (match matchapi.Match, taken bool, err error) {
	why := "canceled"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		why = "timed_out"
	}
	keys := []string{queueKey, statsKey, waiterKey(w.token), mailboxKey(w.token)}
	reply, err := leaveScript.Run(context.Background(), m.rdb, keys, w.token, why).Text()
	if err != nil || reply == "left" {
		return matchapi.Match{}, false, ignoreNil(err) // nil: neither left nor taken
	}
	return parseMatch(reply), true, nil
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

// ignoreNil is err, but nil for redis.Nil: Redis's answer that there was nothing.
func ignoreNil(err error) error {
	if errors.Is(err, redis.Nil) {
		return nil
	}
	return err
}
