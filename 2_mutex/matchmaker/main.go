package main

import (
	"flag"

	"concurrencylab/internal/matchapi"
	"concurrencylab/internal/server"
)

func main() {
	cfg, pairTimeout := matchapi.Flags(flag.CommandLine)
	flag.Parse()

	m := NewMatchmaker()
	h := matchapi.NewHandler(m, *pairTimeout)
	cfg.OnShutdown = h.Shutdown
	server.MainWithConfig(*cfg, h)
}
