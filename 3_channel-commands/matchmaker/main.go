package main

import (
	"flag"

	"concurrencylab/internal/matchapi"
	"concurrencylab/internal/server"
)

func main() {
	cfg := server.Flags(flag.CommandLine)
	cfg.TLSFlags(flag.CommandLine)
	pairTimeout := flag.Duration("pair-timeout", matchapi.DefaultPairTimeout, "how long a client waits for a peer before a 408")
	flag.Parse()

	m := NewMatchmaker()
	defer m.Close()
	h := matchapi.NewHandler(m, *pairTimeout)
	cfg.OnShutdown = h.Shutdown
	server.MainWithConfig(*cfg, h)
}
