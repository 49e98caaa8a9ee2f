package notifyapi

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// Handler serves the contract (see NewRouter) over a Hub: the safe
// versions' handler, the same for both.
type Handler struct {
	hub      Hub
	upgrader *websocket.Upgrader
	router   http.Handler
}

// NewHandler serves hub with an empty store of resources, in memory, that
// publishes each change on hub.
func NewHandler(hub Hub, opts Options) *Handler {
	rs := NewResources(func(e Event) error { return hub.Publish(e.JSON()) })
	return NewStoreHandler(hub, rs, opts)
}

// NewStoreHandler serves hub's subscribers with the resources of rs, which
// publishes its changes itself: the hub receives them some other way (the
// Redis version's replicas, from Redis).
func NewStoreHandler(hub Hub, rs Store, opts Options) *Handler {
	h := &Handler{hub: hub, upgrader: NewUpgrader(opts)}
	h.router = NewRouter(h.subscribe, rs, hub.Stats)
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.router.ServeHTTP(w, r) }

// Shutdown says goodbye to every subscriber and refuses new ones: the
// server's Shutdown does not wait for websockets, which it no longer owns.
func (h *Handler) Shutdown() { h.hub.Shutdown() }

// subscribe serves one subscriber for as long as its connection lasts: the
// writer in a goroutine of its own, the reader in this one.
func (h *Handler) subscribe(w http.ResponseWriter, r *http.Request) {
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered with a 4xx
	}
	s := newSubscriber(conn)
	if err := h.hub.Register(s); err != nil {
		conn.WriteControl(websocket.CloseMessage, GoodbyeShuttingDown, time.Now().Add(WriteWait))
		conn.Close()
		return
	}
	written := make(chan struct{})
	go func() {
		defer close(written)
		s.writeEvents(h.hub.Delivered)
	}()
	s.readUntilGone()
	h.hub.Unregister(s)
	<-written
}

// NewUpgrader returns the upgrader every version uses: it accepts a
// browser page's websocket only from the server's own origin or one that
// opts allows, and explains a refusal in one line.
func NewUpgrader(opts Options) *websocket.Upgrader {
	return &websocket.Upgrader{
		CheckOrigin: opts.allowed,
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			msg := reason.Error()
			if status == http.StatusForbidden {
				msg = "origin " + r.Header.Get("Origin") + " may not subscribe (see -allow-origin)"
			}
			http.Error(w, msg, status)
		},
	}
}

// allowed reports whether a websocket request may come from its origin:
// requests without one (not from a browser page), the server's own origin
// (the scheme aside, as gorilla/websocket checks it) and the allowed ones.
func (o Options) allowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if u, err := url.Parse(origin); err == nil && strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, allowed := range o.AllowOrigins {
		if allowed == "*" || strings.EqualFold(allowed, origin) {
			return true
		}
	}
	return false
}
