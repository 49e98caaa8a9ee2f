// Package server starts every lab server the same way: the -addr and -v
// flags (and -tls where a server offers it), timeouts, a one-line start-up
// message, request logging only when asked, and a graceful shutdown on SIGINT
// or SIGTERM.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5/middleware"
)

// DefaultAddr is loopback only: a lab server is not for the network.
const DefaultAddr = "127.0.0.1:8000"

// Timeouts. A client has readHeaderTimeout to send its request headers (so a
// slow client cannot hold a connection open without asking anything), an idle
// keep-alive connection is closed after idleTimeout, and on shutdown requests
// in flight get shutdownTimeout to finish before their connections are cut.
// It must be well over 5 s: net/http's Shutdown waits that long for a
// connection that a client opened but has not used yet, as load
// generators leave them.
const (
	readHeaderTimeout = 5 * time.Second
	idleTimeout       = 60 * time.Second
	shutdownTimeout   = 10 * time.Second
)

// Config is what the command line sets.
type Config struct {
	Addr    string       // host:port to listen on
	Verbose bool         // log every request
	Logger  *slog.Logger // where to log; nil means slog.Default()
	TLS     TLSConfig    // HTTPS, if TLS.Enabled

	// OnShutdown, if set, is called when shutdown begins, so that handlers
	// that wait (a matchmaker's clients) can answer at once instead of
	// holding the shutdown up.
	OnShutdown func()
}

// Flags registers -addr and -v on fs and returns the Config they fill in
// when fs is parsed.
func Flags(fs *flag.FlagSet) *Config {
	cfg := &Config{}
	fs.StringVar(&cfg.Addr, "addr", DefaultAddr, "address to listen on")
	fs.BoolVar(&cfg.Verbose, "v", false, "log every request")
	return cfg
}

// Main parses the command line, serves h until SIGINT or SIGTERM, shuts down
// gracefully and returns. It exits the process with status 1 if the server
// cannot start.
func Main(h http.Handler) {
	cfg := Flags(flag.CommandLine)
	flag.Parse()
	MainWithConfig(*cfg, h)
}

// MainWithConfig is Main for a caller that has parsed its own flags: it
// serves h as cfg says until SIGINT or SIGTERM.
func MainWithConfig(cfg Config, h http.Handler) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, cfg, h); err != nil {
		slog.Error("server failed", "err", err)
		os.Exit(1)
	}
}

// Run listens on cfg.Addr and serves h until ctx ends.
func Run(ctx context.Context, cfg Config, h http.Handler) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return addrInUse(cfg.Addr, err)
		}
		return err
	}
	return Serve(ctx, ln, cfg, h)
}

// addrInUse explains err, a listen on addr that failed because the address
// is taken. In the lab that is most often a server started with
// `go run ./X &` and still running: killing only the go run process (its
// pid) leaves the server behind, while kill %1 signals the job's whole
// process group, the server with it. The error stays on one line, as
// MainWithConfig logs it, and says how to stop that server or go around it.
func addrInUse(addr string, err error) error {
	host, port, splitErr := net.SplitHostPort(addr)
	other := "127.0.0.1:8001"
	if n, convErr := strconv.Atoi(port); splitErr == nil && convErr == nil && n > 0 && n < 65535 {
		other = net.JoinHostPort(host, strconv.Itoa(n+1))
	}
	if splitErr != nil {
		port = "PORT"
	}
	return fmt.Errorf("%w: another lab server is probably still running there "+
		"(one started with go run ... & keeps running if only its go run is killed); "+
		"stop it with kill %%1 (see jobs) in the shell that started it, "+
		"or from any shell with kill $(lsof -t -iTCP:%s -sTCP:LISTEN), "+
		"or run this one with -addr %s", err, port, other)
}

// Serve serves h on ln until ctx ends, then stops accepting connections and
// waits up to shutdownTimeout for requests in flight. It returns nil after a
// clean shutdown.
func Serve(ctx context.Context, ln net.Listener, cfg Config, h http.Handler) error {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	srv := newHTTPServer(logger, cfg.Verbose, h)
	if cfg.OnShutdown != nil {
		srv.RegisterOnShutdown(cfg.OnShutdown)
	}
	serve, scheme := srv.Serve, "http"
	if cfg.TLS.Enabled {
		cert, source, err := cfg.TLS.certificate()
		if err != nil {
			ln.Close()
			return err
		}
		// ServeTLS offers HTTP/2 as well as HTTP/1.1 (ALPN), as the seed's
		// server did.
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		serve = func(ln net.Listener) error { return srv.ServeTLS(ln, "", "") }
		scheme = "https"
		logger.Info("TLS with HTTP/2", "certificate", source)
	}
	served := make(chan error, 1)
	go func() { served <- serve(ln) }()
	logListening(logger, scheme+"://"+ln.Addr().String())

	select {
	case err := <-served:
		return err // Serve failed before anyone asked it to stop.
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", shutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// newHTTPServer returns a server for h with the lab's timeouts, logging to
// logger, and logging every request too if verbose.
func newHTTPServer(logger *slog.Logger, verbose bool, h http.Handler) *http.Server {
	if verbose {
		h = logRequests(logger, h)
	}
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// logRequests logs one line per request with its status and duration.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		start := time.Now()
		next.ServeHTTP(ww, r)
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK // the handler wrote nothing: net/http sends 200
		}
		logger.Info("request",
			"method", r.Method, "uri", r.URL.RequestURI(), "status", status,
			"bytes", ww.BytesWritten(), "duration", time.Since(start), "remote", r.RemoteAddr)
	})
}
