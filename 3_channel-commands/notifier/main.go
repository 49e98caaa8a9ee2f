package main

import (
	"flag"

	"concurrencylab/internal/notifyapi"
	"concurrencylab/internal/server"
)

func main() {
	cfg, opts := notifyapi.Flags(flag.CommandLine)
	flag.Parse()

	hub := NewHub()
	defer hub.Close()
	h := notifyapi.NewHandler(hub, *opts)
	cfg.OnShutdown = h.Shutdown
	server.MainWithConfig(*cfg, h)
}
