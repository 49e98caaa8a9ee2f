// Command notifier is a REST store of resources that announces every change
// to every websocket subscriber (see internal/notifyapi), as any number of
// replicas behind one address: the resources and the order of the changes
// are in Redis, which every replica shares.
//
// SAFE: each change and the publishing of its event are one Lua script,
// which Redis runs alone, so seq is one order across every replica. Each
// replica subscribes once to the events' channel and fans them out to its
// own subscribers as the mutex version does (bounded queues, a slow one
// dropped), so a subscriber on any replica receives every change made on
// any replica, once, in seq order. If Redis goes away, changes get a 503,
// and each subscriber is closed with 1011 (internal error) rather than
// left to miss events unseen; the replica subscribes again when Redis is
// back. /stats is global: its counts are kept in Redis. Prove it:
//
//	go test -race ./5_redis/notifier
//
// or watch it: a subscriber on one replica sees a change made on another.
//
//	redis-server --port 6379 --save '' --appendonly no &
//	go run ./5_redis/notifier -addr 127.0.0.1:8001 &
//	go run ./5_redis/notifier -addr 127.0.0.1:8002 &
//	go run ./internal/subscribe -addr 127.0.0.1:8001    # in another terminal
//	curl -d '{"name":"a"}' 127.0.0.1:8002/resources
//	curl 127.0.0.1:8001/stats                           # the same on either
//	kill %1                                             # Redis away: the subscriber gets 1011, changes 503
//
// Compare with the mutex version one idea at a time: each replica's hub,
// fed from Redis, is diff 2_mutex/notifier/hub.go 5_redis/notifier/fanout.go;
// the resources moved into Redis are diff internal/notifyapi/resources.go
// 5_redis/notifier/store.go.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"concurrencylab/internal/notifyapi"
	"concurrencylab/internal/redislab"
	"concurrencylab/internal/server"
)

func main() {
	cfg, opts := notifyapi.Flags(flag.CommandLine)
	addr := redislab.Flag(flag.CommandLine)
	flag.Parse()

	ctx := context.Background()
	rdb, err := redislab.Dial(ctx, redislab.Options(*addr))
	if err != nil {
		fmt.Fprintln(os.Stderr, "notifier:", err)
		os.Exit(1)
	}
	defer rdb.Close()
	r, err := NewReplica(ctx, rdb, *opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "notifier:", err)
		os.Exit(1)
	}
	defer r.Close()
	cfg.OnShutdown = r.Shutdown
	server.MainWithConfig(*cfg, r)
}
