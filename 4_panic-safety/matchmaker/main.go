package main

import (
	"flag"
	"log/slog"
	"net/http"
	"os"
	"time"

	"concurrencylab/4_panic-safety/crashonpanic"
	"concurrencylab/internal/matchapi"
	"concurrencylab/internal/server"
)

func main() {
	cfg, pairTimeout := matchapi.Flags(flag.CommandLine)
	flag.Parse()

	h, shutdown := newServer(slog.Default(), *pairTimeout)
	cfg.OnShutdown = shutdown
	server.MainWithConfig(*cfg, h)
}

// newServer is the matchmaker behind the crash-on-panic middleware, logging
// to logger, which writes to stderr, and the function that answers its
// waiters at shutdown.
func newServer(logger *slog.Logger, pairTimeout time.Duration) (http.Handler, func()) {
	h := matchapi.NewHandler(NewMatchmaker(), pairTimeout)
	crash := crashonpanic.Middleware(logger, os.Stderr.Sync)
	return crash(h), h.Shutdown
}
