package main

import (
	"context"
	"sync"
	"time"
)

// With -read cache, the counter is BROKEN ON PURPOSE, in a way that only a
// history of its answers shows: each replica keeps the counters it read
// for cacheFor, as teams do to spare Redis, and answers /get from that
// copy. Every increment still goes to Redis and is counted, and the race
// detector has nothing to see; but a read can answer a count older than
// one a client has already seen, or than increments answered before it was
// sent. A cache is a second copy of the state.
//
//	go run ./loadtest -subject counter    # the redis-cache row: stale reads
//	go test -race -tags lab -run TestCachedReadsAreStale ./5_redis/counter

// The ways /get can read.
const (
	Direct = "redis" // from Redis, every time
	Cached = "cache" // from this replica's copy, for cacheFor
)

// cacheFor is how long a replica keeps a counter it read.
const cacheFor = 100 * time.Millisecond

// readCache is a replica's copy of the counters it read.
type readCache struct {
	mu     sync.Mutex        // guards copies
	copies map[string]copied // by key
}

type copied struct {
	val   int64
	until time.Time
}

// CacheReads makes s answer /get from a copy kept for cacheFor.
func (s *Store) CacheReads() {
	s.cache = &readCache{copies: map[string]copied{}}
}

// get answers key's count from the copy if it is recent enough, or else
// reads it from Redis with read and keeps it.
func (c *readCache) get(ctx context.Context, key string, read func(context.Context, string) (int64, error)) (int64, error) {
	c.mu.Lock()
	cp, found := c.copies[key]
	c.mu.Unlock()
	if found && time.Now().Before(cp.until) {
		return cp.val, nil
	}
	val, err := read(ctx, key)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	c.copies[key] = copied{val: val, until: time.Now().Add(cacheFor)}
	c.mu.Unlock()
	return val, nil
}
