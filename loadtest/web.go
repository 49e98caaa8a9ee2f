package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// defaultWebAddr is where -web serves the live page.
const defaultWebAddr = "127.0.0.1:8080"

// The live page's server. Its pages and assets are small and local, so the
// timeouts are short; a stream of events (webstream.go) sets its own write
// deadline, event by event, instead of the server's WriteTimeout.
const (
	webReadHeaderTimeout = 5 * time.Second
	webReadTimeout       = 10 * time.Second
	webWriteTimeout      = 10 * time.Second
	webIdleTimeout       = time.Minute
	// webShutdownWait bounds Close's graceful shutdown: a browser stalled
	// in the middle of an event is cut off after it.
	webShutdownWait = 2 * time.Second
)

// webFiles are the page, its script and style, and uPlot (web/vendor),
// built into the harness: the page needs no network and no build step.
//
//go:embed web
var webFiles embed.FS

// webPage is the live page of -web: a server on its own port, for a
// projector, and an observer of the run. It keeps what the harness has told
// it (webstate.go), so that a browser that opens the page mid-run or after
// it sees everything, and tells each open page the rest as it happens, as
// Server-Sent Events (webstream.go).
type webPage struct {
	url     string
	srv     *http.Server
	files   fs.FS         // web/
	served  chan struct{} // closed when the server's goroutine returns
	closing chan struct{} // closed by Close: every stream ends
	once    sync.Once     // of Close

	mu      sync.Mutex // guards state and clients
	state   webState
	clients map[*webClient]struct{}
}

// startWeb listens at addr at once, so that a port in use is said before
// the run starts, and serves the page there until Close.
func startWeb(addr string) (*webPage, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s is in use: -web ADDR for another", addr)
	}
	if err != nil {
		return nil, err
	}
	files, err := fs.Sub(webFiles, "web")
	if err != nil {
		ln.Close()
		return nil, err
	}
	p := &webPage{
		url:     pageURL(ln.Addr().(*net.TCPAddr)),
		files:   files,
		served:  make(chan struct{}),
		closing: make(chan struct{}),
		state:   newWebState(),
		clients: map[*webClient]struct{}{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", p.servePage)
	mux.HandleFunc("GET /events", p.serveEvents)
	mux.HandleFunc("GET /results.json", p.serveResults)
	mux.HandleFunc("GET /histories/{name}", p.serveDrawing)
	mux.HandleFunc("GET /", p.serveAsset)
	p.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: webReadHeaderTimeout,
		ReadTimeout:       webReadTimeout,
		WriteTimeout:      webWriteTimeout,
		IdleTimeout:       webIdleTimeout,
	}
	// The server's goroutine, the page's own: it returns when Close shuts
	// the server down.
	go func() {
		defer close(p.served)
		p.srv.Serve(ln)
	}()
	return p, nil
}

// pageURL is the page's address as a browser on this machine opens it: a
// server on every interface (":8080") is at localhost too.
func pageURL(a *net.TCPAddr) string {
	host := a.IP.String()
	if a.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(a.Port)) + "/"
}

// URL is the page's address.
func (p *webPage) URL() string { return p.url }

// Close ends every stream of events, telling each browser that the harness
// has gone (its page keeps what it has), and shuts the server down.
func (p *webPage) Close() {
	p.once.Do(func() {
		close(p.closing)
		ctx, cancel := context.WithTimeout(context.Background(), webShutdownWait)
		defer cancel()
		if p.srv.Shutdown(ctx) != nil {
			p.srv.Close()
		}
		<-p.served
	})
}

// servePage is GET /: the page, which asks for the rest.
func (p *webPage) servePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeFileFS(w, r, p.files, "index.html")
}

// serveDrawing is GET /histories/NAME: the drawing of a history that a
// row of this run found wrong (result.Drawing), and no other file.
func (p *webPage) serveDrawing(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	path := ""
	p.mu.Lock()
	for _, row := range p.state.Rows {
		if row != nil && row.Result != nil && row.Result.Drawing != "" && filepath.Base(row.Result.Drawing) == name {
			path = row.Result.Drawing
		}
	}
	p.mu.Unlock()
	if path == "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	http.ServeFile(w, r, path)
}

// serveAsset is the page's script and style, and uPlot's. A folder, or
// anything else, is not found.
func (p *webPage) serveAsset(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	if fi, err := fs.Stat(p.files, name); err != nil || fi.IsDir() {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeFileFS(w, r, p.files, name)
}

// serveResults is GET /results.json: the report as -json writes it, once
// the run has ended.
func (p *webPage) serveResults(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	rep := p.state.report
	p.mu.Unlock()
	if rep == nil {
		http.Error(w, "the run has not ended yet: the report is here once it has", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	writeJSON(w, *rep)
}
