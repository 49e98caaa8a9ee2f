package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"concurrencylab/internal/redislab"
	"concurrencylab/internal/server"
)

func main() {
	cfg := server.Flags(flag.CommandLine)
	redisAddr := redislab.Flag(flag.CommandLine)
	inc := flag.String("inc", Script, fmt.Sprintf("how /inc increments: %s (atomic, the fix), %s (optimistic, the other fix) or %s (broken on purpose)", Script, Watch, GetSet))
	read := flag.String("read", Direct, fmt.Sprintf("how /get reads: %s (every time) or %s (a copy kept %v, broken on purpose)", Direct, Cached, cacheFor))
	flag.Parse()
	if *read != Direct && *read != Cached {
		fmt.Fprintf(os.Stderr, "counter: -read %q: use %s or %s\n", *read, Direct, Cached)
		os.Exit(2)
	}

	rdb, err := redislab.Dial(context.Background(), redislab.Options(*redisAddr))
	if err != nil {
		fmt.Fprintln(os.Stderr, "counter:", err)
		os.Exit(1)
	}
	defer rdb.Close()
	redislab.BatchScripts(rdb) // speed only: concurrent increments share a round trip
	store, err := NewStore(context.Background(), rdb, *inc)
	if err != nil {
		fmt.Fprintln(os.Stderr, "counter:", err)
		os.Exit(1)
	}
	if *read == Cached {
		store.CacheReads()
	}
	server.MainWithConfig(*cfg, NewHandler(store))
	if *inc == Watch {
		slog.Info("optimistic increments", "retries", store.Retries(), "increments", store.Increments())
	}
}
