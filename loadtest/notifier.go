package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"concurrencylab/internal/notifyapi"
)

// The notifier's load.
const (
	subscribers = 8 // reading subscribers during the bursts of changes
	// publishers change resources at once, at publishRate changes a second
	// in all. The safe versions drop a subscriber that falls 256 events
	// behind (notifyapi.QueueLen), and the harness's subscribers share the
	// cores with the server and the load: an uncapped flood would have them
	// dropped as too slow, which is the policy working, not a bug. The
	// capacity of the fan-out is measured by BenchmarkFanOut instead.
	publishers  = 4
	publishRate = 2000
	// deliverWait bounds how long the subscribers may take to receive
	// every event once the changes are answered.
	deliverWait = 5 * time.Second
	// removeWait bounds how long a server may take to notice that the
	// subscribers have gone: the safe versions notice in milliseconds.
	removeWait = time.Second
	// stallPublishers change resources at once while a subscriber stalls.
	stallPublishers = 4
	// maxStallEvents bounds the changes sent to fill a stalled
	// subscriber's socket buffers (about 40,000 fill them on Linux).
	maxStallEvents = 200_000
)

// driveNotifier checks the three promises of the safe notifiers, in turn:
// every subscriber receives every event, in order, under a burst of
// changes; subscribers that leave are removed; and a subscriber that stops
// reading is dropped while changes go on being answered.
func driveNotifier(s *session) outcome {
	subs, err := s.subscribeAll(subscribers)
	if err != nil {
		return fail(Broken, "%v", err)
	}
	defer closeAll(subs)
	// Subscribed means counted by the server: a handshake can end before
	// the server has added the subscriber.
	if _, err := s.awaitNotifyStats(checkWait, func(st notifyapi.Stats) bool { return st.Subscribers == int64(len(subs)) }); err != nil {
		return fail(Broken, "%d subscribers connected; %v", len(subs), err)
	}
	spec := loadSpec{Method: "POST", Path: "/resources", Body: []byte(`{"name":"load"}`), ContentType: "application/json",
		N: max(publishers, s.opts.n/2), C: publishers, QPS: publishRate}
	if _, failed := s.loadRepeatedly(spec, s.opts.repeat); failed != nil {
		return *failed
	}
	st, err := s.notifyStats()
	if err != nil {
		return fail(Hung, "%v", err)
	}
	if out := awaitDelivery(subs, st.Published); out != nil {
		return *out
	}

	for _, sub := range subs {
		sub.leave()
	}
	if _, err := s.awaitNotifyStats(removeWait, func(st notifyapi.Stats) bool { return st.Subscribers == 0 }); err != nil {
		return fail(Leaked, "%d subscribers left; %v", len(subs), err)
	}

	if !s.opts.stall {
		return ok("%d subscribers got all %d events in order (%d/s), left and were removed (-stall=false: no stalled subscriber)",
			len(subs), st.Published, publishRate)
	}
	stalledAfter, out := s.stallOne()
	if out != nil {
		return *out
	}
	return ok("%d subscribers got all %d events in order (%d/s), left and were removed; a stalled one was dropped after %d events",
		len(subs), st.Published, publishRate, stalledAfter)
}

// A subscriber is a websocket client that reads and checks every event.
type subscriber struct {
	conn     *websocket.Conn
	received atomic.Int64 // events read so far
	done     chan struct{}
	mu       sync.Mutex // guards problem
	problem  string     // the first event out of order, if any
}

func (s *session) subscribeAll(n int) ([]*subscriber, error) {
	var subs []*subscriber
	for range n {
		conn, err := s.dialWS(websocket.DefaultDialer)
		if err != nil {
			closeAll(subs)
			return nil, err
		}
		sub := &subscriber{conn: conn, done: make(chan struct{})}
		go sub.read()
		subs = append(subs, sub)
	}
	return subs, nil
}

func (s *session) dialWS(d *websocket.Dialer) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(s.ctx, checkWait)
	defer cancel()
	conn, resp, err := d.DialContext(ctx, "ws"+strings.TrimPrefix(s.child.url, "http")+"/ws", nil)
	if resp != nil {
		resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("subscribing: %w", err)
	}
	return conn, nil
}

// read reads events until the connection ends, checking that their seq
// numbers come one after the other.
func (sub *subscriber) read() {
	defer close(sub.done)
	var last int64
	for {
		_, msg, err := sub.conn.ReadMessage()
		if err != nil {
			return
		}
		var e notifyapi.Event
		if err := json.Unmarshal(msg, &e); err != nil || e.Seq != last+1 {
			sub.mu.Lock()
			if sub.problem == "" {
				sub.problem = fmt.Sprintf("after seq %d got %q", last, msg)
			}
			sub.mu.Unlock()
		}
		last = e.Seq
		sub.received.Add(1)
	}
}

// leave closes the connection as a browser tab does: a close frame, then
// the socket.
func (sub *subscriber) leave() {
	sub.conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"), time.Now().Add(time.Second))
	sub.conn.Close()
	<-sub.done
}

func closeAll(subs []*subscriber) {
	for _, sub := range subs {
		sub.conn.Close()
	}
}

// awaitDelivery waits until every subscriber has read every one of the
// published events.
func awaitDelivery(subs []*subscriber, published int64) *outcome {
	deadline := time.Now().Add(deliverWait)
	for i, sub := range subs {
		for sub.received.Load() < published && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		sub.mu.Lock()
		problem := sub.problem
		sub.mu.Unlock()
		if problem != "" {
			return &outcome{Broken, fmt.Sprintf("subscriber %d: events out of order: %s", i+1, problem)}
		}
		if got := sub.received.Load(); got != published {
			return &outcome{LostUpdates, fmt.Sprintf("subscriber %d got %d of %d events within %v", i+1, got, published, deliverWait)}
		}
	}
	return nil
}

func (s *session) notifyStats() (notifyapi.Stats, error) {
	var st notifyapi.Stats
	status, text, err := s.do("GET", "/stats", nil, checkWait)
	if err != nil {
		return st, err
	}
	if status != 200 {
		return st, fmt.Errorf("GET /stats answered %d %q", status, text)
	}
	return st, json.Unmarshal([]byte(text), &st)
}

// awaitNotifyStats polls /stats until cond holds, for up to wait.
func (s *session) awaitNotifyStats(wait time.Duration, cond func(notifyapi.Stats) bool) (notifyapi.Stats, error) {
	deadline := time.Now().Add(wait)
	for {
		st, err := s.notifyStats()
		if err != nil {
			return st, err
		}
		if cond(st) {
			return st, nil
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("GET /stats after %v: %+v", wait, st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stallOne connects a subscriber that never reads, with the smallest
// receive buffer the kernel allows, and changes resources until the server
// drops it: the safe versions answer every change meanwhile. It returns
// how many events that took.
func (s *session) stallOne() (int64, *outcome) {
	conn, err := s.dialWS(&websocket.Dialer{NetDialContext: tinyReceiveBuffer().DialContext})
	if err != nil {
		return 0, &outcome{Broken, err.Error()}
	}
	defer conn.Close()
	before, err := s.notifyStats()
	if err != nil {
		return 0, &outcome{Hung, err.Error()}
	}

	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	var sent atomic.Int64
	errs := make(chan error, stallPublishers)
	for range stallPublishers {
		go func() {
			for ctx.Err() == nil && sent.Add(1) <= maxStallEvents {
				status, text, err := s.do("POST", "/resources", []byte(`{"name":"stall"}`), checkWait)
				if err == nil && status != 201 {
					err = fmt.Errorf("POST /resources answered %d %q", status, text)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	dropped := make(chan notifyapi.Stats, 1)
	go func() {
		for ctx.Err() == nil {
			if st, err := s.notifyStats(); err == nil && st.Dropped > before.Dropped {
				dropped <- st
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()

	for range stallPublishers {
		select {
		case st := <-dropped:
			cancel()
			if st.Subscribers != 0 {
				return 0, &outcome{Leaked, fmt.Sprintf("a stalled subscriber was dropped, but /stats says %+v", st)}
			}
			return st.Published - before.Published, nil
		case err := <-errs:
			if err != nil {
				cancel()
				return 0, &outcome{Hung, fmt.Sprintf("a subscriber stopped reading; after %d changes, %v", sent.Load(), err)}
			}
		}
	}
	return 0, &outcome{Leaked, fmt.Sprintf("a subscriber stopped reading and was not dropped after %d changes", maxStallEvents)}
}

// tinyReceiveBuffer dials with the smallest socket receive buffer, so that
// a subscriber that never reads fills up after fewer events.
func tinyReceiveBuffer() *net.Dialer {
	return &net.Dialer{Control: setTinyReceiveBuffer}
}
