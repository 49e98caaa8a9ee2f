package notifycheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"concurrencylab/internal/notifyapi"
	"concurrencylab/internal/scenario"
)

// A Client talks to one notifier server as its users do: REST changes,
// /stats, and websocket subscribers. It checks what the contract promises
// of each answer: a change's status and its Event, /stats as Stats, every
// message a text Event. The scenarios, the harness's drive and the
// fan-out benchmark all use it.
type Client struct {
	tg     *scenario.Target
	wait   time.Duration // bounds each request and each websocket handshake
	dialer *websocket.Dialer
}

// NewClient returns a client of tg whose requests and websocket handshakes
// each get no more than wait: one with no answer by then has hung.
func NewClient(tg *scenario.Target, wait time.Duration) *Client {
	return &Client{tg: tg, wait: wait, dialer: newDialer(tg.DialContext, wait)}
}

// newDialer dials the websockets with dial (the target's in-memory pipes),
// or over the network if it is nil.
func newDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error), wait time.Duration) *websocket.Dialer {
	return &websocket.Dialer{NetDialContext: dial, HandshakeTimeout: wait}
}

// A Change is what one POST or PUT got.
type Change struct {
	Status int
	Event  notifyapi.Event // on a 200 or 201: the event in the body
	Body   string          // the whole body
}

// Change sends a POST or PUT of body, as JSON, and decodes the Event that a
// 200 or 201 returns. One that gets no answer within the client's wait is a
// scenario.HungRequest error: publishing never waits for a subscriber.
func (c *Client) Change(ctx context.Context, method, path, body string) (Change, error) {
	resp, err := c.tg.Do(ctx, scenario.Request{Method: method, Path: path, Body: body,
		Header: http.Header{"Content-Type": {"application/json"}}, Wait: c.wait})
	if err != nil {
		return Change{}, err
	}
	ch := Change{Status: resp.Status, Body: resp.Body}
	if ch.Status == http.StatusOK || ch.Status == http.StatusCreated {
		if err := decodeStrict(resp.Body, &ch.Event); err != nil {
			return ch, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return ch, nil
}

// Create stores body as a new resource, which must be answered 201, and
// returns its event.
func (c *Client) Create(ctx context.Context, body string) (notifyapi.Event, error) {
	return c.mustChange(ctx, http.MethodPost, "/resources", body, http.StatusCreated)
}

// Modify replaces resource id with body, which must be answered 200, and
// returns its event.
func (c *Client) Modify(ctx context.Context, id int64, body string) (notifyapi.Event, error) {
	return c.mustChange(ctx, http.MethodPut, fmt.Sprintf("/resources/%d", id), body, http.StatusOK)
}

func (c *Client) mustChange(ctx context.Context, method, path, body string, status int) (notifyapi.Event, error) {
	ch, err := c.Change(ctx, method, path, body)
	if err != nil {
		return notifyapi.Event{}, err
	}
	if ch.Status != status {
		return notifyapi.Event{}, fmt.Errorf("%s %s: %d %q, want %d", method, path, ch.Status, scenario.Shorten(ch.Body), status)
	}
	return ch.Event, nil
}

// Stats reads /stats, which must answer 200 within the client's wait.
func (c *Client) Stats(ctx context.Context) (notifyapi.Stats, error) {
	var s notifyapi.Stats
	resp, err := c.tg.Get(ctx, "/stats", c.wait)
	if err != nil {
		return s, err
	}
	if resp.Status != http.StatusOK {
		return s, fmt.Errorf("GET /stats: %d %q", resp.Status, scenario.Shorten(resp.Body))
	}
	return s, decodeStrict(resp.Body, &s)
}

// AwaitStats reads /stats every poll until cond holds, for up to wait, and
// returns the last Stats read: ok is false if wait passed first. An error
// is a /stats that failed.
func (c *Client) AwaitStats(ctx context.Context, wait, poll time.Duration, cond func(notifyapi.Stats) bool) (s notifyapi.Stats, ok bool, err error) {
	ok, err = scenario.Await(ctx, wait, poll, func() (bool, error) {
		var err error
		s, err = c.Stats(ctx)
		return err == nil && cond(s), err
	})
	return s, ok, err
}

// Subscribe connects a websocket subscriber; the caller closes it (Leave
// or Vanish).
func (c *Client) Subscribe(ctx context.Context) (*Subscription, error) {
	return c.subscribe(ctx, c.dialer, nil)
}

func (c *Client) subscribe(ctx context.Context, d *websocket.Dialer, header http.Header) (*Subscription, error) {
	conn, resp, err := d.DialContext(ctx, c.wsURL(), header)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("subscribing: %w", err)
	}
	return &Subscription{conn: conn}, nil
}

// wsURL is the target's /ws, as ws:// or wss://.
func (c *Client) wsURL() string { return "ws" + strings.TrimPrefix(c.tg.URL, "http") + "/ws" }

// A Subscription is one websocket subscriber, as a browser page or a Go
// client would be. One goroutine may read it (Next) while another writes
// (Write) or closes it (Leave, Vanish).
type Subscription struct {
	conn *websocket.Conn
}

// ErrNotEvent is a message that is not a text Event, as JSON.
var ErrNotEvent = errors.New("not an event")

// Next reads the next event, waiting at most wait (for ever if 0). A
// message that is not an event is an ErrNotEvent error; any other error
// is the connection's (it ended, or wait passed).
func (s *Subscription) Next(wait time.Duration) (notifyapi.Event, error) {
	var e notifyapi.Event
	var deadline time.Time
	if wait > 0 {
		deadline = time.Now().Add(wait)
	}
	s.conn.SetReadDeadline(deadline)
	typ, msg, err := s.conn.ReadMessage()
	if err != nil {
		return e, err
	}
	if typ != websocket.TextMessage {
		return e, fmt.Errorf("%w: got a message of type %d, not text", ErrNotEvent, typ)
	}
	if err := decodeStrict(string(msg), &e); err != nil {
		return e, fmt.Errorf("%w: %w", ErrNotEvent, err)
	}
	return e, nil
}

// Write sends one text frame of msg to the server, giving up after wait.
func (s *Subscription) Write(msg []byte, wait time.Duration) error {
	s.conn.SetWriteDeadline(time.Now().Add(wait))
	return s.conn.WriteMessage(websocket.TextMessage, msg)
}

// Leave closes the connection the polite way: a close frame, then the
// socket, as a browser tab does when it closes (without waiting for the
// server's close in return).
func (s *Subscription) Leave() {
	s.conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"), time.Now().Add(time.Second))
	s.conn.Close()
}

// Vanish closes the socket without a word, as a client that crashes does.
func (s *Subscription) Vanish() { s.conn.Close() }

// decodeStrict decodes one JSON value with no unknown fields.
func decodeStrict(body string, v any) error {
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decoding %q: %w", scenario.Shorten(body), err)
	}
	return nil
}

// isTimeout reports whether err is a deadline passing.
func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}
