// Command counter serves named counters over HTTP (/set, /get, /inc) from
// Redis, so that every replica of it behind a load balancer shares one set
// of counters. How /inc increments is the lesson, one file each (-inc):
//
//   - script (the default), SAFE: one Lua script reads, checks and
//     increments, and Redis runs a script as one step (inc_script.go);
//   - watch, SAFE: optimistic WATCH/MULTI/EXEC, retried when another client
//     changed the counter in between; the retries are counted at
//     /debug/vars (inc_watch.go);
//   - getset, BROKEN ON PURPOSE: GET, add one in Go, SET, the way a first
//     attempt does it. Two replicas read the same value and both write
//     value+1: updates are lost, and the race detector sees nothing,
//     because the race is between processes (inc_getset.go).
//
// And -read cache, BROKEN ON PURPOSE another way: each replica answers /get
// from a copy of what it read, kept for a moment. Every increment is
// counted, yet reads go back in time, which only a history of the answers
// shows (read_cache.go; go run ./loadtest -subject counter -strategy
// redis-cache).
//
// Run three replicas behind a proxy on :8000, and Redis, with:
//
//	go run ./loadtest/cluster 5_redis/counter &
//	go tool hey -n 20000 -c 200 "http://127.0.0.1:8000/inc?name=i"
//	curl "127.0.0.1:8000/get?name=i"    # i: 20000, from whichever replica
//	kill %1
//
// and the same with -inc getset after the package: far fewer than 20000.
// Prove it: go test -race ./5_redis/counter
//
// Compare with the mutex version: diff 2_mutex/counter/store.go
// 5_redis/counter/store.go moves the map into Redis, and inc_script.go is
// the mutex's critical section, moved to where the state is.
package main

import (
	"context"
	"errors"
	"expvar"
	"fmt"
	"net/http"

	"github.com/redis/go-redis/v9"

	"concurrencylab/internal/counterapi"
)

// The ways /inc can increment.
const (
	Script = "script"
	Watch  = "watch"
	GetSet = "getset"
)

// keyPrefix names a counter's key: the counter i is the key counter:i.
const keyPrefix = "counter:"

// Store holds the counters in Redis. It has no state of its own to guard:
// the counters are Redis's, and Redis runs one command (or script, or
// MULTI/EXEC transaction) at a time.
type Store struct {
	rdb *redis.Client // shared by every handler goroutine; safe for concurrent use
	inc func(ctx context.Context, key string) error

	cache *readCache // -read cache: this replica's copy of what it read; nil reads Redis

	retries    expvar.Int // watch: transactions that found the counter changed and ran again
	increments expvar.Int // watch: transactions that committed
}

// NewStore returns a store over rdb that increments the way inc says, and
// creates counterapi.InitialCounters at zero where they do not exist yet
// (a replica that starts later does not reset the others' counts).
func NewStore(ctx context.Context, rdb *redis.Client, inc string) (*Store, error) {
	s := &Store{rdb: rdb}
	switch inc {
	case Script:
		s.inc = s.incScript
	case Watch:
		s.inc = s.incWatch
	case GetSet:
		s.inc = s.incGetSet
	default:
		return nil, fmt.Errorf("-inc %q: use %s, %s or %s", inc, Script, Watch, GetSet)
	}
	for name, val := range counterapi.InitialCounters() {
		if err := rdb.SetNX(ctx, keyPrefix+name, val, 0).Err(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// NewHandler serves the counter contract over s, and s's counts at
// /debug/vars (expvar's JSON).
func NewHandler(s *Store) http.Handler {
	vars := new(expvar.Map).Init() // unpublished: this store's own, not the process's
	vars.Set("inc_retries", &s.retries)
	vars.Set("inc_increments", &s.increments)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/vars", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, vars.String())
	})
	mux.Handle("/", counterapi.NewHandler(s))
	return mux
}

// Retries is how many optimistic increments ran again (watch).
func (s *Store) Retries() int64 { return s.retries.Value() }

// Increments is how many optimistic increments committed (watch).
func (s *Store) Increments() int64 { return s.increments.Value() }

func (s *Store) Set(ctx context.Context, name string, val int64) error {
	return s.rdb.Set(ctx, keyPrefix+name, val, 0).Err()
}

func (s *Store) Get(ctx context.Context, name string) (int64, error) {
	if s.cache != nil {
		return s.cache.get(ctx, keyPrefix+name, s.get) // -read cache (read_cache.go)
	}
	return s.get(ctx, keyPrefix+name)
}

func (s *Store) get(ctx context.Context, key string) (int64, error) {
	val, err := s.rdb.Get(ctx, key).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, counterapi.ErrNotFound
	}
	return val, err
}

func (s *Store) Inc(ctx context.Context, name string) error {
	return s.inc(ctx, keyPrefix+name)
}
