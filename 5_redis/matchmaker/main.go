package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"concurrencylab/internal/matchapi"
	"concurrencylab/internal/redislab"
	"concurrencylab/internal/server"
)

func main() {
	cfg, pairTimeout := matchapi.Flags(flag.CommandLine)
	redisAddr := redislab.Flag(flag.CommandLine)
	flag.Parse()

	ctx := context.Background()
	rdb, err := redislab.Dial(ctx, redislab.Options(*redisAddr))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	m, err := New(ctx, rdb)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		rdb.Close()
		os.Exit(1)
	}
	h := matchapi.NewHandler(m, *pairTimeout)
	cfg.OnShutdown = h.Shutdown
	server.MainWithConfig(*cfg, h)
	m.Close()
	rdb.Close()
}
