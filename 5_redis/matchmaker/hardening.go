package main

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"

	"concurrencylab/internal/matchapi"
)

// What a matchmaker in production adds to the lesson:
//
//   - A replica can die with clients queued, which nobody will take out.
//     Each waiter holds a lease, its key in Redis (matchmaker:waiter:TOKEN),
//     which expires leaseTTL after its Join last renewed it; join.lua skips,
//     and counts as timed out, a queued client whose lease has run out.
//   - Redis can fail after it ran a script and before its reply came back.
//     No script is sent twice (it would count twice): the client finds out
//     what its join did (settle), and a waiter whose command failed tries
//     again (retry) until it has its answer, or until its lease has surely
//     run out: then no join can hand it out any more.
//   - A waiter whose ctx ends is woken at once (wake), not at its BLPOP's
//     next timeout.
//
// So a client gets a 503 while a peer got it in a 200 only if Redis stayed
// out of reach from the moment the peer took it until the client gave up,
// or died between handing a match to a waiter's BLPOP and sending it.
const (
	// leaseTTL is a waiter's lease; renewEvery, how often its Join renews
	// it: a BLPOP that nobody wakes returns as often.
	leaseTTL   = 5 * time.Second
	renewEvery = time.Second
	// matchTTL is how long a match waits in a mailbox for its client, who
	// may be kept from it by a dead connection for renewEvery plus the 10 s
	// go-redis adds to a blocking command's read timeout.
	matchTTL = time.Minute
	// retryWait is how long a waiter waits before it tries Redis again.
	retryWait = 100 * time.Millisecond
)

// ErrLost is the answer to a client that is neither queued nor paired
// although its wait has not ended: its join never ran, or its lease ran
// out while it could not reach Redis, or Redis lost it (restarted empty).
var ErrLost = errors.New("this client's place in the queue is gone (did Redis restart?)")

// settle finds out what w's join did, when it failed with err: nothing,
// if Redis never saw it (a 503); or w is queued, and waits; or it is not,
// and leave finds its match (the copy join.lua left), or nothing (a 503).
func (m *Matchmaker) settle(ctx context.Context, w *waiter, err error) (matchapi.Match, error) {
	switch {
	case !mayHaveRun(err):
		return matchapi.Match{}, err
	case m.renew(w):
		return m.wait(ctx, w)
	}
	match, err := m.leave(ctx, w)
	if err == nil {
		m.dropCopy(w)
	}
	return match, err
}

// mayHaveRun reports whether a command that failed with err may have run
// all the same: unless go-redis could not get a connection for it, it was
// sent, and only its reply may be missing.
func mayHaveRun(err error) bool {
	var op *net.OpError
	notSent := errors.As(err, &op) && op.Op == "dial" ||
		errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout)
	return !notSent
}

// renew extends w's lease, and reports whether it did: false if w has none
// left to extend (a peer took it, a join swept it out, or Redis lost it),
// or if Redis failed. Either way, w leaves, and leave finds out.
func (m *Matchmaker) renew(w *waiter) bool {
	var renewed bool
	err := w.retry(func() (err error) {
		renewed, err = m.rdb.PExpire(context.Background(), waiterKey(w.token), leaseTTL).Result()
		return err
	})
	w.leaseEnds = time.Now().Add(leaseTTL) // any try may have run
	return renewed && err == nil
}

// retry runs op, one of w's commands, until Redis answers it, every
// retryWait; redis.Nil ("nothing") is an answer, and retry returns nil. It
// gives up, with op's error, once an attempt that began after w's lease had
// surely run out has failed.
func (w *waiter) retry(op func() error) error {
	for {
		began := time.Now()
		err := op()
		if err == nil || errors.Is(err, redis.Nil) {
			return nil
		}
		if began.After(w.leaseEnds) {
			return err
		}
		time.Sleep(retryWait)
	}
}

// wake pushes to w's wake-up list, where its BLPOP waits too: ctx has
// ended. The list expires, in case w has left already.
func (m *Matchmaker) wake(w *waiter) {
	m.rdb.TxPipelined(context.Background(), func(tx redis.Pipeliner) error {
		tx.RPush(context.Background(), wakeKey(w.token), "ctx ended")
		tx.PExpire(context.Background(), wakeKey(w.token), leaseTTL)
		return nil
	})
}

func wakeKey(token string) string { return keyPrefix + "wake:" + token }

// dropCopy deletes w's mailbox, and the copy of its match that join.lua
// left there, once w has the match. If that fails, the copy expires.
func (m *Matchmaker) dropCopy(w *waiter) {
	m.rdb.Del(context.Background(), mailboxKey(w.token))
}
