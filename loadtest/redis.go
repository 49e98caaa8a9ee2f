package main

import (
	"context"
	"sync"

	"concurrencylab/internal/redislab"
)

// sharedRedis is the one Redis of a harness run, started for the first
// version that keeps its state there, emptied before each such version,
// and stopped at the end of the run: a redis-server child where one is
// installed, the one at -redis if given, or the embedded one.
type sharedRedis struct {
	kind, addr string // what to start (redislab.Start's)

	mu  sync.Mutex // guards srv and err
	srv *redislab.Server
	err error
}

func (r *sharedRedis) get(ctx context.Context) (*redislab.Server, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv == nil && r.err == nil {
		r.srv, r.err = redislab.Start(ctx, r.kind, r.addr)
	}
	return r.srv, r.err
}

// started is the Redis, if the run started one.
func (r *sharedRedis) started() *redislab.Server {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.srv
}

// close stops the Redis, if the run started one, and says which it was:
// "" if none.
func (r *sharedRedis) close() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	which := ""
	if r.srv != nil {
		which = r.srv.String()
		r.srv.Close()
	}
	r.srv, r.err = nil, nil
	return which
}
