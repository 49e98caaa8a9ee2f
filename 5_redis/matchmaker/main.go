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

// poolSize is how many connections to Redis a replica may open: each waiting
// client holds one, in BLPOP (go-redis's default is ten per CPU; Redis takes
// 10,000 clients).
const poolSize = 1000

// Options are redislab's client options, with room for the waiting clients.
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
