package labtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"concurrencylab/internal/notifyapi"
)

// notifyClient talks to one notifier server: REST requests, and websocket
// subscribers.
type notifyClient struct {
	base   string // http://host:port
	http   *http.Client
	dialer *websocket.Dialer
}

// serveNotifierLoopback serves h on a 127.0.0.1 port for the rest of the
// test and returns a client for it. Cleanup shuts the server down, waiting
// up to cleanupWait for requests in flight (httptest.Server would wait for
// ever on a handler that hangs); a handler left running is for goleak to
// find.
func serveNotifierLoopback(t testing.TB, h http.Handler) *notifyClient {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: h}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	client := &http.Client{Timeout: clientTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	t.Cleanup(func() {
		client.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), cleanupWait)
		defer cancel()
		srv.Shutdown(ctx)
		srv.Close()
		<-served
	})
	return &notifyClient{base: "http://" + ln.Addr().String(), http: client, dialer: &websocket.Dialer{HandshakeTimeout: clientTimeout}}
}

// serveNotifierInBubble serves h in the current synctest bubble, over
// in-memory connections (see serveInMemory).
func serveNotifierInBubble(t *testing.T, h http.Handler) *notifyClient {
	srv := serveInMemory(t, h)
	return &notifyClient{base: srv.url, http: srv.client, dialer: &websocket.Dialer{NetDialContext: srv.dial}}
}

// cleanupWait bounds how long a loopback server's cleanup waits for the
// requests in flight to finish. It is longer than the half second net/http
// lingers on a connection whose request body it did not read to the end
// (the 413), and short enough not to slow a hung version's test much.
const cleanupWait = time.Second

// A change is what one POST or PUT got.
type change struct {
	status int
	event  notifyapi.Event // 200 or 201: the event in the body
	body   string
}

// publishDeadline bounds one POST or PUT. Publishing never waits for a
// subscriber, so on loopback it takes well under a millisecond; one that
// takes this long has hung.
const publishDeadline = 5 * time.Second

// hungMarker starts the error the suite reports when a request does not
// return within its deadline.
const hungMarker = "hung"

// create stores a new resource and returns its event.
func (c *notifyClient) create(t *testing.T, body string) notifyapi.Event {
	t.Helper()
	return c.mustChange(t, "POST", "/resources", body, http.StatusCreated)
}

// modify replaces resource id and returns its event.
func (c *notifyClient) modify(t *testing.T, id int64, body string) notifyapi.Event {
	t.Helper()
	return c.mustChange(t, "PUT", fmt.Sprintf("/resources/%d", id), body, http.StatusOK)
}

func (c *notifyClient) mustChange(t *testing.T, method, target, body string, status int) notifyapi.Event {
	t.Helper()
	ch, err := c.change(t.Context(), method, target, body)
	require.NoError(t, err)
	require.Equal(t, status, ch.status, "%s %s: body %q", method, target, ch.body)
	return ch.event
}

// change sends a POST or PUT with a JSON body and decodes the event it
// returns. A request that does not return within publishDeadline is an
// error that starts with hungMarker.
func (c *notifyClient) change(ctx context.Context, method, target, body string) (change, error) {
	ctx, cancel := context.WithTimeout(ctx, publishDeadline)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+target, strings.NewReader(body))
	if err != nil {
		return change{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, respBody, err := send(c.http, req)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return change{}, fmt.Errorf("%s: %s %s did not return within %v", hungMarker, method, target, publishDeadline)
	}
	if err != nil {
		return change{}, err
	}
	ch := change{status: resp.StatusCode, body: respBody}
	if ch.status == http.StatusOK || ch.status == http.StatusCreated {
		if err := decodeStrict(respBody, &ch.event); err != nil {
			return ch, fmt.Errorf("%s %s: %w", method, target, err)
		}
	}
	return ch, nil
}

// do sends one request with a body and returns the status and the whole
// response body.
func (c *notifyClient) do(t *testing.T, method, target, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, c.base+target, strings.NewReader(body))
	require.NoError(t, err)
	resp, respBody, err := send(c.http, req)
	require.NoError(t, err, "%s %s", method, target)
	return resp.StatusCode, respBody
}

// stats returns the server's /stats, which must answer within
// publishDeadline.
func (c *notifyClient) stats(t testing.TB) notifyapi.Stats {
	t.Helper()
	s, err := c.getStats(t.Context())
	require.NoError(t, err)
	return s
}

func (c *notifyClient) getStats(ctx context.Context) (notifyapi.Stats, error) {
	ctx, cancel := context.WithTimeout(ctx, publishDeadline)
	defer cancel()
	var s notifyapi.Stats
	resp, body, err := fetch(ctx, c.http, "GET", c.base+"/stats")
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return s, fmt.Errorf("%s: GET /stats did not return within %v", hungMarker, publishDeadline)
	}
	if err != nil {
		return s, err
	}
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("GET /stats: %d %q", resp.StatusCode, body)
	}
	return s, decodeStrict(body, &s)
}

// awaitStats polls /stats until cond holds, and fails the test if it does
// not within wait. It returns the stats that satisfied cond. A failure
// starts with marker, if one is given.
func (c *notifyClient) awaitStats(t testing.TB, wait time.Duration, marker, what string, cond func(notifyapi.Stats) bool) notifyapi.Stats {
	t.Helper()
	const poll = time.Millisecond
	deadline := time.Now().Add(wait)
	for {
		s := c.stats(t)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			if marker != "" {
				marker += ": "
			}
			t.Fatalf("%swaited %v for %s; /stats is %+v", marker, wait, what, s)
		}
		time.Sleep(poll)
	}
}

// decodeStrict decodes one JSON value with no unknown fields.
func decodeStrict(body string, v any) error {
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decoding %q: %w", body, err)
	}
	return nil
}

// wsClient is one websocket subscriber, as a browser page or a Go client
// would be.
type wsClient struct {
	conn *websocket.Conn
}

// subscribe connects a subscriber. Cleanup closes it, if the test has not
// and has passed. A failed test leaves it connected: closing it could wake
// a broken server's goroutine into waiting on a mutex that a hung publish
// holds, and in a synctest bubble that would hang the test instead of
// failing it (a goroutine waiting on a mutex is not durably blocked, so
// the bubble never sees the deadlock).
func (c *notifyClient) subscribe(t *testing.T) *wsClient {
	t.Helper()
	sub, err := c.dial(t.Context())
	require.NoError(t, err, "subscribing")
	t.Cleanup(func() {
		if !t.Failed() {
			sub.vanish()
		}
	})
	return sub
}

// dial connects a subscriber, for a goroutine other than the test's; the
// caller closes it.
func (c *notifyClient) dial(ctx context.Context) (*wsClient, error) {
	conn, resp, err := c.dialer.DialContext(ctx, "ws"+strings.TrimPrefix(c.base, "http")+"/ws", nil)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("subscribing: %w", err)
	}
	return &wsClient{conn: conn}, nil
}

// next reads the next event, waiting at most wait.
func (w *wsClient) next(wait time.Duration) (notifyapi.Event, error) {
	var e notifyapi.Event
	w.conn.SetReadDeadline(time.Now().Add(wait))
	typ, msg, err := w.conn.ReadMessage()
	if err != nil {
		return e, err
	}
	if typ != websocket.TextMessage {
		return e, fmt.Errorf("got a message of type %d, not text", typ)
	}
	return e, decodeStrict(string(msg), &e)
}

// leave closes the connection the polite way: a close frame, then the
// socket, as a browser tab does when it closes (without waiting the
// server's close in return).
func (w *wsClient) leave() {
	w.conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"), time.Now().Add(time.Second))
	w.conn.Close()
}

// vanish closes the socket without a word, as a client that crashes does.
func (w *wsClient) vanish() { w.conn.Close() }
