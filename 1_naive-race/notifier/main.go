package main

import (
	"flag"

	"concurrencylab/internal/notifyapi"
	"concurrencylab/internal/server"
)

func main() {
	cfg, opts := notifyapi.Flags(flag.CommandLine)
	flag.Parse()

	server.MainWithConfig(*cfg, newNotifier(*opts))
}
