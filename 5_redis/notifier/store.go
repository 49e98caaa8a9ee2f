package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"concurrencylab/internal/notifyapi"
)

// The Redis keys and the channel of the notifier, shared by every replica.
// They are prefixed so that the other 5_redis servers can share one Redis.
const (
	keyLastID      = "notifier:last-id"     // string: the last resource id given
	keySeq         = "notifier:seq"         // string: the last change's seq, which is Stats.Published
	keyResources   = "notifier:resources"   // hash: resource id -> its JSON body
	keyCounts      = "notifier:counts"      // hash: "delivered", "dropped" -> the counts of Stats
	keySubscribers = "notifier:subscribers" // hash: replica -> its subscribers now (see counts.go)
	eventsChannel  = "notifier:events"      // pub/sub: every Event, as JSON, in seq order
)

// createScript is Create as one atomic step: a new id and seq, the body
// stored, and the event published. Redis runs one script at a time, and
// delivers what it publishes in that order, so seq is one order across all
// replicas, and every subscriber of the channel sees it.
var createScript = redis.NewScript(`
local id = redis.call('INCR', KEYS[1])
local seq = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[3], id, ARGV[1])
redis.call('PUBLISH', ARGV[2], string.format('{"event":"created","id":%d,"seq":%d}', id, seq))
return {id, seq}
`)

// updateScript is Update as one atomic step; it returns 0, having changed
// nothing, if there is no resource ARGV[1].
var updateScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then
	return 0
end
local seq = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('PUBLISH', ARGV[3], string.format('{"event":"modified","id":%s,"seq":%d}', ARGV[1], seq))
return seq
`)

// A Store is the resources in Redis, where every replica sees them: the
// notifyapi.Store of this version. Each change is one script, which makes
// the change and publishes its event; a change that fails (Redis is
// unreachable) is a 503, and was not made.
type Store struct {
	rdb *redis.Client // set by NewStore; safe for concurrent use
}

func NewStore(rdb *redis.Client) *Store { return &Store{rdb: rdb} }

func (st *Store) Create(ctx context.Context, body json.RawMessage) (notifyapi.Event, error) {
	r, err := createScript.Run(ctx, st.rdb, []string{keyLastID, keySeq, keyResources}, []byte(body), eventsChannel).Int64Slice()
	if err != nil {
		return notifyapi.Event{}, redisError(err)
	}
	if len(r) != 2 {
		return notifyapi.Event{}, fmt.Errorf("Redis: the create script returned %v, not an id and a seq", r)
	}
	return notifyapi.Event{Event: notifyapi.Created, ID: r[0], Seq: r[1]}, nil
}

func (st *Store) Update(ctx context.Context, id int64, body json.RawMessage) (notifyapi.Event, bool, error) {
	seq, err := updateScript.Run(ctx, st.rdb, []string{keySeq, keyResources}, strconv.FormatInt(id, 10), []byte(body), eventsChannel).Int64()
	switch {
	case err != nil:
		return notifyapi.Event{}, false, redisError(err)
	case seq == 0:
		return notifyapi.Event{}, false, nil
	}
	return notifyapi.Event{Event: notifyapi.Modified, ID: id, Seq: seq}, true, nil
}

func (st *Store) Get(ctx context.Context, id int64) (json.RawMessage, bool, error) {
	body, err := st.rdb.HGet(ctx, keyResources, strconv.FormatInt(id, 10)).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, false, nil
	case err != nil:
		return nil, false, redisError(err)
	}
	return body, true, nil
}

// redisError is err as the 503's one line says it.
func redisError(err error) error { return fmt.Errorf("Redis: %w", err) }
