package main

import (
	"log/slog"
	"net/http"
	"os"

	"concurrencylab/4_panic-safety/crashonpanic"
	"concurrencylab/internal/counterapi"
	"concurrencylab/internal/server"
)

func main() {
	server.Main(newServer(slog.Default()))
}

// newServer is the counter behind the crash-on-panic middleware, logging to
// logger, which writes to stderr.
func newServer(logger *slog.Logger) http.Handler {
	crash := crashonpanic.Middleware(logger, os.Stderr.Sync)
	return crash(counterapi.NewHandler(NewStore()))
}
