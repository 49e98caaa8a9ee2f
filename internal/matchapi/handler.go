package matchapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
)

// Handler serves the contract over a Matchmaker:
//
//	GET /?id=ID  waits for a peer; ID names the caller (default: its address).
//	             200: the peer's id on one line, the pair id in the Pair-Id header.
//	             408: no peer within the pair timeout.
//	             503: the server is shutting down.
//	GET /stats   200: Stats as JSON.
//
// Bad input gets a 4xx with a one-line message and changes nothing.
type Handler struct {
	m      Matchmaker
	waits  *Waits
	router http.Handler
}

// NewHandler serves m, giving each client pairTimeout to find a peer.
func NewHandler(m Matchmaker, pairTimeout time.Duration) *Handler {
	h := &Handler{m: m, waits: NewWaits(pairTimeout)}
	h.router = NewRouter(h.findPeer, m.Stats)
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.router.ServeHTTP(w, r) }

// Shutdown ends every wait, now and later, with a 503.
func (h *Handler) Shutdown() { h.waits.Shutdown() }

func (h *Handler) findPeer(w http.ResponseWriter, r *http.Request) {
	id, ok := ClientID(w, r)
	if !ok {
		return
	}
	ctx, cancel := h.waits.Context(r)
	defer cancel()
	match, err := h.m.Join(ctx, id)
	if err != nil {
		GiveUp(ctx, w, err)
		return
	}
	WriteMatch(w, match)
}

// NewRouter routes the contract's paths to findPeer and to a /stats handler
// over stats, with one-line 404 and 405 answers.
func NewRouter(findPeer http.HandlerFunc, stats func(context.Context) (Stats, error)) http.Handler {
	r := chi.NewRouter()
	r.Get("/", findPeer)
	r.Get("/stats", func(w http.ResponseWriter, r *http.Request) {
		s, err := stats(r.Context())
		if err != nil {
			http.Error(w, "matchmaker unavailable: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s)
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unknown path "+r.URL.Path+": use / or /stats", http.StatusNotFound)
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, r.Method+" not allowed on "+r.URL.Path, http.StatusMethodNotAllowed)
	})
	return r
}

// ClientID returns the caller's id: ?id= if given, else its remote address.
// A bad id is answered with a 400, and ClientID returns false.
func ClientID(w http.ResponseWriter, r *http.Request) (string, bool) {
	q := r.URL.Query()
	if !q.Has("id") {
		return r.RemoteAddr, true
	}
	id := q.Get("id")
	var problem string
	switch {
	case id == "":
		problem = "id is empty: name yourself, or leave id out to be named by your address"
	case len(id) > MaxIDLen:
		problem = fmt.Sprintf("id is %d bytes; the limit is %d", len(id), MaxIDLen)
	case !utf8.ValidString(id) || strings.IndexFunc(id, notPrintable) >= 0:
		problem = "id must be printable UTF-8 text"
	}
	if problem != "" {
		http.Error(w, problem, http.StatusBadRequest)
		return "", false
	}
	return id, true
}

func notPrintable(r rune) bool { return !unicode.IsPrint(r) }

// WriteMatch answers one member of a pair.
func WriteMatch(w http.ResponseWriter, m Match) {
	w.Header().Set(PairIDHeader, m.PairID)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, m.Peer)
}

// GiveUp answers a client whose wait under ctx (made by Waits.Context) ended
// with err instead of a peer: 408 after the pair timeout, 503 on shutdown or
// if the matchmaker failed, and nothing if the client has gone.
func GiveUp(ctx context.Context, w http.ResponseWriter, err error) {
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, ErrPairTimeout):
		http.Error(w, "timeout waiting for peer", http.StatusRequestTimeout)
	case errors.Is(cause, ErrShuttingDown):
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
	case ctx.Err() != nil:
		// The client has gone: there is no one to answer.
	default:
		http.Error(w, "matchmaker unavailable: "+err.Error(), http.StatusServiceUnavailable)
	}
}
