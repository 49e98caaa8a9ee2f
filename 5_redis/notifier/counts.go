package main

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"concurrencylab/internal/notifyapi"
)

// The counts of /stats are global, since through the proxy a /stats may
// reach any replica: they are kept in Redis. Published is keySeq, which
// the change scripts increment; Delivered and Dropped are sums in
// keyCounts; Subscribers is the sum of keySubscribers, where each replica
// keeps its own count now (a count, not increments, so that it is right
// again whatever Redis kept or lost while it was away). Each replica's
// flusher writes its changes there in the background, so that no writer
// waits on Redis: /stats lags a replica's counts by about one round trip.
// A replica that dies without Close leaves its last count behind.

// Timing of the flusher's writes.
const (
	// A write that failed (Redis is away) is tried again after
	// flushRetryFirst, then twice as long each time up to flushRetryMax.
	flushRetryFirst = 10 * time.Millisecond
	flushRetryMax   = 500 * time.Millisecond

	// forgetWait bounds Close's last write, which takes this replica's
	// count out of Redis.
	forgetWait = time.Second
)

// statsScript reads every count at once, so that /stats is one snapshot.
var statsScript = redis.NewScript(`
local published = tonumber(redis.call('GET', KEYS[1]) or '0')
local counts = redis.call('HMGET', KEYS[2], 'delivered', 'dropped')
local subscribers = 0
for _, n in ipairs(redis.call('HVALS', KEYS[3])) do
	subscribers = subscribers + tonumber(n)
end
return {subscribers, published, tonumber(counts[1] or '0'), tonumber(counts[2] or '0')}
`)

// Stats reads the counts of every replica from Redis.
func (f *Fanout) Stats(ctx context.Context) (notifyapi.Stats, error) {
	r, err := statsScript.Run(ctx, f.rdb, []string{keySeq, keyCounts, keySubscribers}).Int64Slice()
	if err != nil {
		return notifyapi.Stats{}, redisError(err)
	}
	return notifyapi.Stats{Subscribers: r[0], Published: r[1], Delivered: r[2], Dropped: r[3]}, nil
}

// flushCounts is the flusher, a goroutine of its own from newFanout to
// Close: each time a count changes, it writes this replica's to Redis,
// trying again until Redis takes them.
func (f *Fanout) flushCounts() {
	defer f.done.Done()
	for {
		select {
		case <-f.dirty:
		case <-f.stop:
			return
		}
		for wait := flushRetryFirst; f.flush(context.Background(), false) != nil; wait = min(2*wait, flushRetryMax) {
			select {
			case <-time.After(wait):
			case <-f.stop:
				return
			}
		}
	}
}

// flush adds the deliveries and drops not yet counted to keyCounts, and
// sets this replica's subscribers, or takes them out if last, in one
// transaction. What it could not write, it keeps for the next flush.
func (f *Fanout) flush(ctx context.Context, last bool) error {
	delivered, dropped := f.delivered.Swap(0), f.dropped.Swap(0)
	_, err := f.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		if delivered != 0 {
			p.HIncrBy(ctx, keyCounts, "delivered", delivered)
		}
		if dropped != 0 {
			p.HIncrBy(ctx, keyCounts, "dropped", dropped)
		}
		if last {
			p.HDel(ctx, keySubscribers, f.replica)
		} else {
			p.HSet(ctx, keySubscribers, f.replica, f.count())
		}
		return nil
	})
	if err != nil {
		f.delivered.Add(delivered)
		f.dropped.Add(dropped)
	}
	return err
}

// forget is Close's last flush, once the flusher has stopped, which takes
// this replica's count out of Redis. Where Redis is away, it is left.
func (f *Fanout) forget() {
	ctx, cancel := context.WithTimeout(context.Background(), forgetWait)
	defer cancel()
	f.flush(ctx, true)
}
