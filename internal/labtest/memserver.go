package labtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
)

// memServer is an HTTP server on in-memory connections (net.Pipe), for
// tests in a synctest bubble: goroutines blocked on a loopback socket would
// keep the bubble's fake clock from advancing, and net.Pipe has no buffers,
// so a client that stops reading blocks the server's next write at once.
// It is the real net/http server and client all the same.
type memServer struct {
	url    string       // the server's base URL; any host name reaches it
	client *http.Client // a client whose connections go to the server
	dial   func(ctx context.Context, network, addr string) (net.Conn, error)
}

// serveInMemory serves h until the test ends, when cleanup closes the
// server and the client's idle connections. Connections that a handler has
// hijacked (websockets) are the test's to end.
func serveInMemory(t testing.TB, h http.Handler) *memServer {
	ln := newPipeListener()
	srv := &http.Server{Handler: h}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	tr := &http.Transport{DialContext: ln.dial}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
		<-served
	})
	return &memServer{url: "http://lab.test", client: &http.Client{Transport: tr}, dial: ln.dial}
}

// pipeListener is an in-memory net.Listener: each dial hands it the server
// end of a new net.Pipe.
type pipeListener struct {
	conns     chan net.Conn
	closed    chan struct{}
	closeOnce sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	server, client := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		return nil, fmt.Errorf("dial: %w", net.ErrClosed)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }
