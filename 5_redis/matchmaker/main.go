package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/redis/go-redis/v9"

	"concurrencylab/internal/matchapi"
	"concurrencylab/internal/redislab"
	"concurrencylab/internal/server"
)

// poolSize is how many connections to Redis a replica may open. Each
// waiting client holds one, blocked in BLPOP on its mailbox: go-redis's
// default, ten per CPU, would keep the 21st waiter of a 2-CPU replica
// waiting for a connection. (Redis takes 10,000 clients by default.)
const poolSize = 1000

// Options are redislab's client options, with room for every waiting client.
func Options(addr string) *redis.Options {
	opts := redislab.Options(addr)
	opts.PoolSize = poolSize
	return opts
}

func main() {
	cfg, pairTimeout := matchapi.Flags(flag.CommandLine)
	redisAddr := redislab.Flag(flag.CommandLine)
	flag.Parse()

	rdb, err := redislab.Dial(context.Background(), Options(*redisAddr))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	m := NewMatchmaker(rdb)
	h := matchapi.NewHandler(m, *pairTimeout)
	cfg.OnShutdown = h.Shutdown
	server.MainWithConfig(*cfg, h)
	rdb.Close()
}
