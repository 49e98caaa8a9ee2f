package main

import (
	"flag"

	"concurrencylab/internal/matchapi"
	"concurrencylab/internal/server"
)

func main() {
	cfg, pairTimeout := matchapi.Flags(flag.CommandLine)
	flag.Parse()

	m := newMatchmaker(*pairTimeout)
	cfg.OnShutdown = m.Shutdown
	server.MainWithConfig(*cfg, m)
}
