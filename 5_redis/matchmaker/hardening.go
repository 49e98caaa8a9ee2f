package main

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

// What the lesson needs no more than, and a matchmaker in production does:
//
//   - A replica can die with clients queued, which nobody will take out.
//     Each waiter holds a lease, its key in Redis (matchmaker:waiter:TOKEN),
//     which expires leaseTTL after its Join last renewed it; join.lua skips,
//     and counts as timed out, a queued client whose lease has run out.
//   - Redis can fail after it ran a script and before its reply came back.
//     A script is never sent again (it would count twice): the client
//     finds out what it did. A join that may have run waits as if queued,
//     and its mailbox or its lease tells: the match (join.lua leaves the
//     caller a copy), still queued, or never queued (ErrLost). A waiter
//     whose BLPOP, renewal or leave fails tries again, and gives up only
//     when Redis fails it after its lease has surely run out: no join can
//     hand it out any more. So a client gets a 503 and its peer a 200 only
//     if Redis is out of reach from before the peer came until then.
const (
	// leaseTTL is a waiter's lease; renewEvery, how often its Join renews
	// it, as often as a BLPOP that nobody wakes returns.
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

// mayHaveRun reports whether a command that failed with err may have run
// all the same: unless go-redis could not get a connection for it, it was
// sent, and only its reply may be missing.
func mayHaveRun(err error) bool {
	var op *net.OpError
	notSent := errors.As(err, &op) && op.Op == "dial" ||
		errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout)
	return !notSent
}

// renew extends w's lease. It reports false if w has none left to extend:
// a peer took it, a join swept it out, or Redis lost it.
func (m *Matchmaker) renew(w *waiter) (bool, error) {
	renewed, err := m.rdb.PExpire(context.Background(), waiterKey(w.token), leaseTTL).Result()
	w.leaseEnds = time.Now().Add(leaseTTL) // even if err: it may have run
	return renewed, err
}

// pause is w's answer to err, Redis's failure of an attempt that began
// at began: wait retryWait and try again; or, if the attempt began after
// w's lease had surely run out, give up with err.
func (w *waiter) pause(began time.Time, err error) error {
	if err == nil {
		return nil
	}
	if began.After(w.leaseEnds) {
		return err
	}
	time.Sleep(retryWait)
	return nil
}

// dropCopy deletes the copy of its match that join.lua left in w's own
// mailbox, once w has the match from the reply. If that fails, the copy
// expires.
func (m *Matchmaker) dropCopy(w *waiter) {
	m.rdb.Del(context.Background(), mailboxKey(w.token))
}
