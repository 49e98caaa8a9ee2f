package cluster

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"time"
)

// This file is the proxy's own keep-alive client, for the requests that may
// be sent twice (GETs): measured with pprof under wrk, an http.Transport's
// reader and writer goroutines per connection and the handing over of
// each request between them were 30% of the proxy's CPU (issue 23).

// A backend is one keep-alive connection to a replica. A plain request is
// written and its answer read on it by the handler's own goroutine: an
// http.Transport's reader and writer goroutines for each connection, and
// the handing over of every request and answer between them, were much
// of what the proxy cost.
type backend struct {
	conn net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	stop func() bool // stops cutting conn when the client goes away
}

var dialer = net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}

// exchange writes req, which may be sent twice, to the replica, on an
// idle connection or a new one, and reads the head of its answer.
func (rep *replica) exchange(req *http.Request) (*http.Response, *backend, error) {
	for {
		b := rep.get()
		reused := b != nil
		if !reused {
			conn, err := dialer.DialContext(req.Context(), "tcp", rep.host)
			if err != nil {
				return nil, nil, err
			}
			b = &backend{conn: conn, br: bufio.NewReader(conn), bw: bufio.NewWriter(conn)}
		}
		// A client that goes away cuts the replica's connection too, as
		// an http.Transport would: a replica's long wait ends with it.
		b.stop = context.AfterFunc(req.Context(), func() { b.conn.SetDeadline(time.Unix(1, 0)) })
		err := req.Write(b.bw)
		if err == nil {
			err = b.bw.Flush()
		}
		var resp *http.Response
		for err == nil {
			resp, err = http.ReadResponse(b.br, req)
			if err != nil || resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
				break
			}
			// An interim answer (100 Continue): the final one follows.
		}
		if err == nil {
			return resp, b, nil
		}
		b.stop()
		b.conn.Close()
		// A replica closes a connection that waited too long in the pool,
		// or all of them when it stops: if nothing came back, the request
		// (idempotent) goes again on a new one, as an http.Transport does.
		stale := reused && b.br.Buffered() == 0 && req.Context().Err() == nil
		if !stale || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
			return nil, nil, err
		}
		if req.GetBody != nil {
			req.Body, _ = req.GetBody()
		}
	}
}

// idempotent reports whether a request may be sent again after a stale
// connection dropped it: the methods net/http's Transport sends again.
func idempotent(method string) bool {
	switch method {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	return false
}

func (rep *replica) get() *backend {
	rep.mu.Lock()
	defer rep.mu.Unlock()
	n := len(rep.idle)
	if n == 0 {
		return nil
	}
	b := rep.idle[n-1]
	rep.idle = rep.idle[:n-1]
	return b
}

func (rep *replica) put(b *backend) {
	rep.mu.Lock()
	if len(rep.idle) < maxIdlePerReplica {
		rep.idle, b = append(rep.idle, b), nil
	}
	rep.mu.Unlock()
	if b != nil {
		b.conn.Close()
	}
}

func (rep *replica) closeIdle() {
	rep.mu.Lock()
	idle := rep.idle
	rep.idle = nil
	rep.mu.Unlock()
	for _, b := range idle {
		b.conn.Close()
	}
}
