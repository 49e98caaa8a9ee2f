package main

import (
	"flag"

	"concurrencylab/internal/notifyapi"
	"concurrencylab/internal/server"
)

func main() {
	cfg, opts := notifyapi.Flags(flag.CommandLine)
	flag.Parse()

	n := newNotifier(*opts)
	cfg.OnShutdown = n.onShutdown
	server.MainWithConfig(*cfg, n)
}
