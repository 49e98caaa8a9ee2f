package labtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"concurrencylab/internal/scenario"
)

// clientTimeout bounds every request of a scenario on loopback, so that a
// broken version fails the test instead of hanging it.
const clientTimeout = 30 * time.Second

// cleanupWait bounds how long a loopback server's cleanup waits for the
// requests in flight to finish. It is longer than the half second net/http
// lingers on a connection whose request body it did not read to the end
// (a 413), and short enough not to slow a hung version's test much; a
// handler left running is for goleak to find. (httptest.Server's Close
// would wait for ever on a handler that hangs.)
const cleanupWait = time.Second

// maxConns is how many keep-alive connections a loopback client keeps:
// as many as the load's concurrency.
const maxConns = 200

// Loopback serves srv on a 127.0.0.1 port until the test ends, over HTTP/1.1,
// or over HTTP/2 with TLS if h2, and returns it as a target.
func Loopback(t testing.TB, srv Server, h2 bool) *scenario.Target {
	ts := httptest.NewUnstartedServer(srv.Handler)
	var client *http.Client
	if h2 {
		ts.EnableHTTP2 = true
		ts.StartTLS()
		client = ts.Client()
		client.Transport.(*http.Transport).MaxIdleConnsPerHost = maxConns
	} else {
		ts.Start()
		client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: maxConns}}
	}
	client.Timeout = clientTimeout
	t.Cleanup(func() {
		client.CloseIdleConnections()
		if !t.Failed() { // a failed test needs no wait for its hung handlers
			ctx, cancel := context.WithTimeout(context.Background(), cleanupWait)
			defer cancel()
			ts.Config.Shutdown(ctx)
		}
		ts.Config.Close()
	})
	tg := &scenario.Target{URL: ts.URL, Client: client, Shutdown: srv.Shutdown}
	tg.Load = newLoad(tg)
	return tg
}

// InBubble serves srv in the current synctest bubble, over in-memory
// connections (see serveInMemory), and returns it as a target whose Settle
// is synctest.Wait.
func InBubble(t testing.TB, srv Server) *scenario.Target {
	mem := serveInMemory(t, srv.Handler)
	tg := &scenario.Target{
		URL: mem.url, Client: mem.client, DialContext: mem.dial,
		Settle: synctest.Wait, Shutdown: srv.Shutdown,
	}
	tg.Load = newLoad(tg)
	return tg
}
