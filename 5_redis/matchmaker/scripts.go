package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"concurrencylab/internal/matchapi"
)

// The matchmaker's state in Redis, every key under keyPrefix:
//
//	matchmaker:queue          list: the waiting clients' entries, first come first
//	matchmaker:stats          hash: requests, paired, timed_out, canceled
//	matchmaker:match:TOKEN    string: a waiter's match, "pair-number peer-id",
//	                          left by the peer that took it (expires)
//	matchmaker:wake:REPLICA   pub/sub channel: the tokens of the replica's
//	                          waiters that have a match to read
//
// An entry is "expires token id": expires is when, in Unix milliseconds, a
// join may sweep the entry out as a waiter that never left (its lease);
// token is "replica:n", unique across replicas; id is the client's, any
// text, to the end of the entry.
const keyPrefix = "matchmaker:"

var (
	queueKey = keyPrefix + "queue"
	statsKey = keyPrefix + "stats"
)

func matchKey(token string) string      { return keyPrefix + "match:" + token }
func wakeChannel(replica string) string { return keyPrefix + "wake:" + replica }

// The scripts. Each runs in Redis as one step: see the .lua files.
// Each client runs one, join; a client that waits runs leave only if its
// wait ends with no peer, and take only after a Redis failure.
var (
	//go:embed join.lua
	joinLua    string
	joinScript = redis.NewScript(joinLua)
	//go:embed leave.lua
	leaveLua    string
	leaveScript = redis.NewScript(leaveLua)
	//go:embed take.lua
	takeLua    string
	takeScript = redis.NewScript(takeLua)
)

// matchGrace is how long a match the join script leaves outlives the lease
// of the waiter it is for, and how long a tombstone lasts: a waiter that
// is still there reads it well within that.
const matchGrace = 5 * time.Second

// newEntry is the queue entry of a client with this token and id, whose
// lease ends at expires.
func newEntry(expires time.Time, token, id string) string {
	return strconv.FormatInt(expires.UnixMilli(), 10) + " " + token + " " + id
}

// A joined is the join script's answer for one client: paired is false
// if it was queued.
type joined struct {
	match  matchapi.Match
	paired bool
	err    error
}

// runJoin runs the join script for a batch of clients, in order, and
// returns each one's answer.
func runJoin(ctx context.Context, rdb *redis.Client, batch []joinRequest) ([]joined, error) {
	args := []any{keyPrefix, time.Now().UnixMilli(), matchGrace.Milliseconds()}
	for _, r := range batch {
		args = append(args, r.w.entry, r.id)
	}
	reply, err := joinScript.Run(ctx, rdb, []string{queueKey, statsKey}, args...).Slice()
	if err != nil {
		return nil, err
	}
	if len(reply) != len(batch) {
		return nil, fmt.Errorf("the join script answered %d clients of %d", len(reply), len(batch))
	}
	answers := make([]joined, len(batch))
	for i, r := range reply {
		answers[i] = readJoined(r)
	}
	return answers, nil
}

// readJoined reads the join script's answer for one client.
func readJoined(r any) joined {
	reply, _ := r.([]any)
	switch status(reply) {
	case "queued":
		return joined{}
	case "paired":
		if len(reply) == 3 {
			n, nok := reply[1].(int64)
			peer, pok := reply[2].(string)
			if nok && pok {
				return joined{match: matchapi.Match{Peer: peer, PairID: matchapi.PairID(n)}, paired: true}
			}
		}
	}
	return joined{err: badReply("join", reply)}
}

// The outcomes of the leave and take scripts for a waiter.
type outcome int

const (
	stillWaiting outcome = iota // take: still queued, nobody took it yet
	left                        // leave: taken out of the queue, and counted
	taken                       // a peer took it: the match is in Match
	swept                       // a join swept it out as its lease ran out, and counted it
	lost                        // neither queued nor taken: Redis lost it (restarted empty)
)

// runLeave runs the leave script for w, counting it in field (timed_out or
// canceled) if it is still queued.
func runLeave(ctx context.Context, rdb *redis.Client, w *waiter, field string) (outcome, matchapi.Match, error) {
	reply, err := leaveScript.Run(ctx, rdb, []string{queueKey, statsKey, matchKey(w.token)}, w.entry, field).Slice()
	if err != nil {
		return lost, matchapi.Match{}, err
	}
	return readOutcome("leave", reply)
}

// takeMatch takes w's match, if a peer has left one: a plain GETDEL,
// cheaper than a script, for a waiter just woken by its peer. Only if
// there is none (a wake-up after the dispatcher subscribed again) does it
// run the take script, to learn whether w is still queued.
func takeMatch(ctx context.Context, rdb *redis.Client, w *waiter) (outcome, matchapi.Match, error) {
	match, err := rdb.GetDel(ctx, matchKey(w.token)).Result()
	switch {
	case err == nil:
		return readOutcome("GETDEL", []any{"taken", match})
	case !errors.Is(err, redis.Nil):
		return lost, matchapi.Match{}, err
	}
	reply, err := takeScript.Run(ctx, rdb, []string{matchKey(w.token), queueKey}, w.entry).Slice()
	if err != nil {
		return lost, matchapi.Match{}, err
	}
	return readOutcome("take", reply)
}

// readOutcome reads the reply of the leave or take script.
func readOutcome(script string, reply []any) (outcome, matchapi.Match, error) {
	switch status(reply) {
	case "left":
		return left, matchapi.Match{}, nil
	case "waiting":
		return stillWaiting, matchapi.Match{}, nil
	case "lost":
		return lost, matchapi.Match{}, nil
	case "taken":
		if len(reply) != 2 {
			break
		}
		match, _ := reply[1].(string)
		if match == "" {
			return swept, matchapi.Match{}, nil
		}
		n, peer, ok := strings.Cut(match, " ")
		if _, err := strconv.ParseInt(n, 10, 64); ok && err == nil {
			return taken, matchapi.Match{Peer: peer, PairID: n}, nil
		}
	}
	return lost, matchapi.Match{}, badReply(script, reply)
}

// readStats reads the counts and the queue's length in one transaction
// (MULTI/EXEC: no script, as it writes nothing), a consistent snapshot.
func readStats(ctx context.Context, rdb *redis.Client) (matchapi.Stats, error) {
	var counts *redis.SliceCmd
	var waiting *redis.IntCmd
	_, err := rdb.TxPipelined(ctx, func(tx redis.Pipeliner) error {
		counts = tx.HMGet(ctx, statsKey, "requests", "paired", "timed_out", "canceled")
		waiting = tx.LLen(ctx, queueKey)
		return nil
	})
	if err != nil {
		return matchapi.Stats{}, err
	}
	var v [4]int64
	for i, c := range counts.Val() {
		if c == nil {
			continue // not counted yet
		}
		n, err := strconv.ParseInt(fmt.Sprint(c), 10, 64)
		if err != nil {
			return matchapi.Stats{}, fmt.Errorf("reading the counts: %q", counts.Val())
		}
		v[i] = n
	}
	return matchapi.Stats{Requests: v[0], Paired: v[1], TimedOut: v[2], Canceled: v[3], Waiting: waiting.Val()}, nil
}

// status is a script's reply's first element, its status.
func status(reply []any) string {
	if len(reply) == 0 {
		return ""
	}
	s, _ := reply[0].(string)
	return s
}

func badReply(script string, reply []any) error {
	return fmt.Errorf("the %s script answered %q", script, reply)
}
