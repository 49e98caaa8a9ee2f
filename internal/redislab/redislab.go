// Package redislab is Redis for the lab: the -redis flag and the client
// that every 5_redis server connects with, and the Redis servers that the
// cluster command, the harness and the tests start.
//
// A Redis the lab starts is one of three kinds, chosen in this order unless
// asked for by name:
//
//   - a real redis-server (Debian's package) on PATH, started as a child
//     on a free 127.0.0.1 port with no persistence, and stopped by its pid;
//   - one already running at an address given with -redis;
//   - an embedded Redis-compatible server in this process
//     (github.com/alicebob/miniredis/v2), so that go run and go test need
//     no install.
package redislab

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultAddr is where a 5_redis server looks for Redis unless -redis says
// otherwise: redis-server's own default port, on loopback.
const DefaultAddr = "127.0.0.1:6379"

// Client timeouts. A Redis that has gone away must cost a request a clear
// 503 in about a second, never a hang: dialing and each command are
// bounded.
const (
	dialTimeout = time.Second
	ioTimeout   = time.Second
	pingWait    = 2 * time.Second
)

// sharedPool is PipelinePoolSize's value that sends pipelines on the
// client's one pool, as go-redis did before it gave them a pool of their
// own. On their own pool, measured with redis-server stopped by SIGSTOP,
// every pipeline after the first took two seconds to fail instead of one
// (issue 23).
const sharedPool = -1

// noRetries turns go-redis's retries off. A command whose reply was lost
// may have run: sent again, an increment would count twice. The request
// gets a 503 instead, and its client decides.
const noRetries = -1

// Flag registers -redis on fs and returns the address it sets.
func Flag(fs *flag.FlagSet) *string {
	return fs.String("redis", DefaultAddr, "the Redis server (host:port) that holds the shared state")
}

// Options are the client options every 5_redis server uses for addr.
// PoolSize is left to go-redis (10 connections per CPU) unless a server
// says otherwise.
func Options(addr string) *redis.Options {
	return &redis.Options{
		Addr:         addr,
		DialTimeout:  dialTimeout,
		ReadTimeout:  ioTimeout,
		WriteTimeout: ioTimeout,
		MaxRetries:   noRetries,
		// One dial per attempt: the default's five, with backoff, would
		// hold a request for half a second before its 503.
		DialerRetries: 1,
		// Protocol 2: RESP2 is what every Redis, and the embedded one,
		// speaks without a HELLO handshake.
		Protocol:         2,
		PipelinePoolSize: sharedPool,
	}
}

// Dial connects to the Redis at opts.Addr and checks that it answers. The
// error is one line that says what to do, for a server to print before it
// exits 1.
func Dial(ctx context.Context, opts *redis.Options) (*redis.Client, error) {
	rdb := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(ctx, pingWait)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("cannot reach Redis at %s: %v; start one (redis-server --port %s --save '' --appendonly no), "+
			"pass -redis host:port, or run the cluster command, which starts one: go run ./loadtest/cluster", opts.Addr, err, portOf(opts.Addr))
	}
	return rdb, nil
}

// go-redis logs every failed dial itself, several times a request while
// Redis is down; the lab's servers say what failed in their answers and
// their own log, so its lines go to the debug level, which no lab server
// prints.
func init() { redis.SetLogger(debugLogger{}) }

type debugLogger struct{}

func (debugLogger) Printf(ctx context.Context, format string, v ...any) {
	slog.DebugContext(ctx, fmt.Sprintf(format, v...))
}
