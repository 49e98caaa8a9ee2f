package main

import (
	"flag"

	"concurrencylab/internal/notifyapi"
	"concurrencylab/internal/server"
)

func main() {
	cfg, opts := notifyapi.Flags(flag.CommandLine)
	flag.Parse()

	h := notifyapi.NewHandler(NewHub(), *opts)
	cfg.OnShutdown = h.Shutdown
	server.MainWithConfig(*cfg, h)
}
