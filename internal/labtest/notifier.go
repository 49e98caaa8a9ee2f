package labtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"concurrencylab/internal/notifyapi"
)

// NewNotifyHandler builds a fresh server of one notifier version, with the
// default options. It registers on t whatever must be stopped when the test
// ends.
type NewNotifyHandler func(t testing.TB) http.Handler

// The load of EveryEventToEverySubscriber: fanSubscribers subscribers, and
// fanPublishers publishers making fanEvents changes between them. Under
// -race, which slows every request several times over, half of that.
var fanSubscribers, fanPublishers, fanEvents = fanLoad()

func fanLoad() (subscribers, publishers, events int) {
	if RaceEnabled {
		return 10, 4, 200
	}
	return 20, 4, 400
}

// The churn of SubscribersComeAndGo: churners goroutines each subscribe
// churnRounds times, read churnEvents events, and leave.
const churners, churnRounds, churnEvents = 8, 5, 3

// receiveWait bounds the wait for one event on loopback, so that a broken
// version fails the test instead of hanging it.
const receiveWait = 10 * time.Second

// removalWait is how long a subscriber that has left may still be counted
// on loopback: its reader notices the close at once, so this is a
// generous bound, not a delay.
const removalWait = 3 * time.Second

// neverRemovedMarker starts the errors the suite reports when a subscriber
// whose connection has ended is still counted.
const neverRemovedMarker = "never removed"

// The scenarios of the notifier contract. Each runs against a fresh server.
var notifyScenarios = []scenario[NewNotifyHandler]{
	{"EveryEventToEverySubscriber", everyEventToEverySubscriber},
	{"SubscribersComeAndGo", subscribersComeAndGo},
	{"DisconnectedSubscriberIsRemoved", disconnectedSubscriberIsRemoved},
	{"StalledSubscriberIsDropped", stalledSubscriberIsDropped},
	{"SilentSubscriberTimesOut", silentSubscriberTimesOut},
	{"OversizedFrameEndsSubscriber", oversizedFrameEndsSubscriber},
	{"ShutdownSaysGoodbye", shutdownSaysGoodbye},
	{"BadInputChangesNothing", badNotifyInput},
}

// NotifierSuite runs the notifier contract (see notifyapi.NewRouter)
// against servers that newHandler builds: every live subscriber receives
// every event, in order, exactly once, while publishers publish at once; a
// subscriber that leaves, stalls, goes silent or sends too much is removed,
// within a bounded time and without delaying the others; bad input is
// answered with a 4xx that changes nothing. After each scenario no
// subscriber is counted and no goroutine is left behind. The timing
// scenarios run on a fake clock (testing/synctest), over in-memory
// connections; the others on loopback.
func NotifierSuite(t *testing.T, newHandler NewNotifyHandler) {
	BrokenNotifierSuite(t, newHandler, nil)
}

// BrokenNotifierSuite runs the suite against a version that is broken on
// purpose: each scenario named in breaks must fail, in a child process, in
// one of the ways listed for it (see ExpectFailure); the others must pass.
// In exercise mode every scenario must pass.
func BrokenNotifierSuite(t *testing.T, newHandler NewNotifyHandler, breaks map[string][]Failure) {
	runScenarios(t, notifyScenarios, newHandler, breaks)
}

// everyEventToEverySubscriber: subscribers stay while publishers create and
// modify resources at once. Each subscriber receives every event exactly
// once, in order (seq 1, 2, 3...), each the event its publisher was told;
// /stats counts every delivery. When they all leave, none is counted and no
// goroutine is left.
func everyEventToEverySubscriber(t *testing.T, newHandler NewNotifyHandler) {
	verifyNoLeaks(t)
	c := serveNotifierLoopback(t, newHandler(t))
	subs := make([]*wsClient, fanSubscribers)
	for i := range subs {
		subs[i] = c.subscribe(t)
	}
	c.awaitStats(t, receiveWait, "", "every subscriber to be registered", func(s notifyapi.Stats) bool {
		return s.Subscribers == int64(fanSubscribers)
	})

	received := make([][]notifyapi.Event, len(subs))
	receiveErrs := make([]error, len(subs))
	var receivers sync.WaitGroup
	for i, sub := range subs {
		receivers.Go(func() {
			for range fanEvents {
				e, err := sub.next(receiveWait)
				if err != nil {
					receiveErrs[i] = fmt.Errorf("subscriber %d, after %d events: %w", i, len(received[i]), err)
					return
				}
				received[i] = append(received[i], e)
			}
		})
	}
	published := publishAll(t, c, fanPublishers, fanEvents)
	receivers.Wait()

	for i := range subs {
		require.NoError(t, receiveErrs[i])
		for j, e := range received[i] {
			if !assert.Equal(t, published[j], e, "subscriber %d, event %d", i, j+1) {
				break
			}
		}
	}
	n := int64(fanEvents)
	c.awaitStats(t, receiveWait, "", "every delivery to be counted", func(s notifyapi.Stats) bool { return s.Delivered == n*int64(fanSubscribers) })
	assert.Equal(t, notifyapi.Stats{Subscribers: int64(fanSubscribers), Published: n, Delivered: n * int64(fanSubscribers)}, c.stats(t))

	for _, sub := range subs {
		sub.leave()
	}
	awaitRemoved(t, c, fmt.Sprintf("%d subscribers left", len(subs)))
}

// publishAll makes events changes from publishers goroutines at once: each
// creates a resource and then modifies it, by turns. It returns the events
// the server answered, by seq (published[0] has seq 1), after checking that
// the seqs are 1 to events with none twice.
func publishAll(t *testing.T, c *notifyClient, publishers, events int) []notifyapi.Event {
	t.Helper()
	bySeq := make([]notifyapi.Event, events)
	var mu sync.Mutex // guards bySeq and failed
	var failed error
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			var id int64
			for i := p; i < events; i += publishers {
				method, target := "POST", "/resources"
				if id != 0 && i%2 == 1 {
					method, target = "PUT", fmt.Sprintf("/resources/%d", id)
				}
				ch, err := c.change(t.Context(), method, target, fmt.Sprintf(`{"publisher":%d,"change":%d}`, p, i))
				if err == nil && ch.status/100 != 2 {
					err = fmt.Errorf("%s %s: %d %q", method, target, ch.status, ch.body)
				}
				mu.Lock()
				switch {
				case err != nil:
					failed = err
				case ch.event.Seq < 1 || ch.event.Seq > int64(events) || bySeq[ch.event.Seq-1].Seq != 0:
					failed = fmt.Errorf("%s %s got seq %d: out of 1..%d, or given twice", method, target, ch.event.Seq, events)
				default:
					bySeq[ch.event.Seq-1] = ch.event
				}
				mu.Unlock()
				if err != nil || failed != nil {
					return
				}
				id = ch.event.ID
			}
		})
	}
	wg.Wait()
	require.NoError(t, failed)
	return bySeq
}

// awaitRemoved waits until /stats counts no subscriber, and fails the test
// with neverRemovedMarker if that takes longer than removalWait.
func awaitRemoved(t *testing.T, c *notifyClient, what string) {
	t.Helper()
	c.awaitStats(t, removalWait, neverRemovedMarker, what+" and none to be counted", func(s notifyapi.Stats) bool { return s.Subscribers == 0 })
}

// subscribersComeAndGo: while publishers publish without a pause,
// subscribers keep coming, reading a few events, and leaving, half of them
// politely and half by vanishing. No publish waits for them, each receives
// events with consecutive seqs, and in the end none is counted and no
// goroutine is left.
func subscribersComeAndGo(t *testing.T, newHandler NewNotifyHandler) {
	verifyNoLeaks(t)
	c := serveNotifierLoopback(t, newHandler(t))
	// The first failure, or churnDone, cancels everything.
	ctx, cancel := context.WithCancelCause(t.Context())
	churnDone := errors.New("every churner is done")

	var publishers sync.WaitGroup
	for range fanPublishers {
		publishers.Go(func() {
			for ctx.Err() == nil {
				if _, err := c.change(ctx, "POST", "/resources", `{}`); err != nil && ctx.Err() == nil {
					cancel(err)
				}
			}
		})
	}
	var churn sync.WaitGroup
	for i := range churners {
		churn.Go(func() {
			for round := 0; round < churnRounds && ctx.Err() == nil; round++ {
				if err := comeAndGo(ctx, c, i%2 == 0); err != nil && ctx.Err() == nil {
					cancel(fmt.Errorf("churner %d, round %d: %w", i, round, err))
				}
			}
		})
	}
	churn.Wait()
	cancel(churnDone)
	publishers.Wait()
	if err := context.Cause(ctx); err != churnDone {
		t.Fatal(err)
	}
	awaitRemoved(t, c, fmt.Sprintf("%d subscribers came and left", churners*churnRounds))
}

// comeAndGo subscribes, reads churnEvents events, checks that their seqs
// are consecutive, and leaves; at once if ctx ends.
func comeAndGo(ctx context.Context, c *notifyClient, polite bool) error {
	sub, err := c.dial(ctx)
	if err != nil {
		return err
	}
	defer context.AfterFunc(ctx, sub.vanish)()
	if polite {
		defer sub.leave()
	} else {
		defer sub.vanish()
	}
	var last int64
	for range churnEvents {
		e, err := sub.next(receiveWait)
		if err != nil {
			return err
		}
		if last != 0 && e.Seq != last+1 {
			return fmt.Errorf("seq %d came after %d", e.Seq, last)
		}
		last = e.Seq
	}
	return nil
}

// disconnectedSubscriberIsRemoved, on a fake clock: of two subscribers, one
// leaves. The server stops counting it at once, the next change returns at
// once, and the other subscriber receives it.
func disconnectedSubscriberIsRemoved(t *testing.T, newHandler NewNotifyHandler) {
	synctest.Test(t, func(t *testing.T) {
		c := serveNotifierInBubble(t, newHandler(t))
		stays, leaves := c.subscribe(t), c.subscribe(t)
		synctest.Wait() // both are registered
		require.Equal(t, int64(2), c.stats(t).Subscribers)

		leaves.leave()
		synctest.Wait() // the server has noticed, if it ever will
		if n := c.stats(t).Subscribers; n != 1 {
			t.Fatalf("%s: one of two subscribers closed its connection, but /stats still counts %d", neverRemovedMarker, n)
		}

		start := time.Now()
		e := c.create(t, `{"name":"after"}`)
		assert.Zero(t, time.Since(start), "the change returned at once")
		got, err := stays.next(time.Second)
		require.NoError(t, err)
		assert.Equal(t, e, got)
		stays.leave()
		synctest.Wait()
		assert.Equal(t, notifyapi.Stats{Published: 1, Delivered: 1}, c.stats(t))
	})
}

// stalledSubscriberIsDropped, on a fake clock and unbuffered connections: a
// subscriber that never reads blocks its writer at the first event. Events
// keep coming, and every change returns at once and reaches the subscriber
// that reads; when the stalled one's queue is full, it is dropped. Its
// writer gives up WriteWait after the write began.
func stalledSubscriberIsDropped(t *testing.T, newHandler NewNotifyHandler) {
	synctest.Test(t, func(t *testing.T) {
		c := serveNotifierInBubble(t, newHandler(t))
		reads, stalled := c.subscribe(t), c.subscribe(t)
		synctest.Wait()

		// One event for the stalled writer to block on, QueueLen to fill
		// its queue, and one more that finds it full.
		const events = 1 + notifyapi.QueueLen + 1
		start := time.Now()
		for i := range events {
			ch, err := c.change(t.Context(), "POST", "/resources", `{}`)
			require.NoError(t, err, "event %d of %d", i+1, events)
			require.Equal(t, http.StatusCreated, ch.status, "body %q", ch.body)
			got, err := reads.next(time.Second)
			require.NoError(t, err, "the reading subscriber, event %d", i+1)
			require.Equal(t, ch.event, got)
		}
		assert.Zero(t, time.Since(start), "no change waited for the stalled subscriber")
		synctest.Wait()
		assert.Equal(t, notifyapi.Stats{Subscribers: 1, Published: events, Delivered: events, Dropped: 1}, c.stats(t))

		time.Sleep(notifyapi.WriteWait)
		synctest.Wait() // the stalled writer has given up and closed the connection
		stalled.conn.SetReadDeadline(time.Now().Add(time.Second))
		_, _, err := stalled.conn.NextReader()
		require.Error(t, err, "the stalled subscriber's connection is closed")
		assert.False(t, isTimeout(err), "the stalled subscriber's connection is closed, not just quiet: %v", err)
		reads.leave()
		synctest.Wait()
		assert.Zero(t, c.stats(t).Subscribers)
	})
}

// silentSubscriberTimesOut, on a fake clock: a client that vanishes without
// closing (a dropped network) says nothing more, not even a pong to the
// server's pings. It is removed exactly PongWait after it last spoke; a
// client that answers pings stays as long as it likes.
func silentSubscriberTimesOut(t *testing.T, newHandler NewNotifyHandler) {
	synctest.Test(t, func(t *testing.T) {
		c := serveNotifierInBubble(t, newHandler(t))
		answers := c.subscribe(t)
		c.subscribe(t) // silent: it never reads, so it never answers a ping
		answered := make(chan error, 1)
		go func() {
			_, err := answers.next(time.Hour) // reading answers pings; no event comes
			answered <- err
		}()
		synctest.Wait()

		time.Sleep(notifyapi.PongWait - time.Millisecond)
		synctest.Wait()
		require.Equal(t, int64(2), c.stats(t).Subscribers, "just before PongWait, both are counted")
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if n := c.stats(t).Subscribers; n != 1 {
			t.Fatalf("%s: a subscriber silent for %v, with no pong to a ping, is still counted (%d subscribers)", neverRemovedMarker, notifyapi.PongWait, n)
		}

		time.Sleep(5 * notifyapi.PongWait)
		synctest.Wait()
		assert.Equal(t, int64(1), c.stats(t).Subscribers, "the subscriber that answers pings stays")
		answers.leave()
		require.Error(t, <-answered)
		synctest.Wait()
		assert.Zero(t, c.stats(t).Subscribers)
	})
}

// oversizedFrameEndsSubscriber, on a fake clock: a subscriber may send a
// frame of MaxFrameBytes, but one byte more ends its connection with 1009
// (message too big), at once.
func oversizedFrameEndsSubscriber(t *testing.T, newHandler NewNotifyHandler) {
	synctest.Test(t, func(t *testing.T) {
		c := serveNotifierInBubble(t, newHandler(t))
		sub := c.subscribe(t)
		synctest.Wait()
		write := func(n int) error {
			sub.conn.SetWriteDeadline(time.Now().Add(time.Second))
			return sub.conn.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("x", n)))
		}

		if err := write(notifyapi.MaxFrameBytes); err != nil {
			t.Fatalf("%s: the server reads nothing its subscribers send (a frame of %d bytes was not taken: %v), so it can notice neither a close nor a frame over the limit",
				neverRemovedMarker, notifyapi.MaxFrameBytes, err)
		}
		synctest.Wait()
		require.Equal(t, int64(1), c.stats(t).Subscribers, "a frame of MaxFrameBytes is allowed")

		err := write(notifyapi.MaxFrameBytes + 1)
		if err == nil {
			_, err = sub.next(time.Second)
		}
		if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
			t.Fatalf("%s: after a frame of %d bytes, over the limit of %d, the subscriber's connection is not closed with 1009 (message too big): %v",
				neverRemovedMarker, notifyapi.MaxFrameBytes+1, notifyapi.MaxFrameBytes, err)
		}
		sub.vanish()
		synctest.Wait()
		assert.Zero(t, c.stats(t).Subscribers)
	})
}

// shutdownSaysGoodbye, on a fake clock: when the server begins to shut down
// (server.Config.OnShutdown calls the handler's Shutdown), each subscriber
// gets a close frame, 1001 (going away), at once, since the server's own
// Shutdown does not wait for hijacked connections; a subscriber that comes
// after gets the same.
func shutdownSaysGoodbye(t *testing.T, newHandler NewNotifyHandler) {
	synctest.Test(t, func(t *testing.T) {
		h := newHandler(t)
		shutdown, ok := h.(interface{ Shutdown() })
		if !ok {
			t.Skip("this version has no Shutdown: its subscribers are cut off when the process exits")
		}
		c := serveNotifierInBubble(t, h)
		subs := []*wsClient{c.subscribe(t), c.subscribe(t)}
		synctest.Wait()

		shutdown.Shutdown()
		late := c.subscribe(t)
		for i, sub := range append(subs, late) {
			_, err := sub.next(time.Second)
			assert.True(t, websocket.IsCloseError(err, websocket.CloseGoingAway), "subscriber %d: %v", i, err)
			sub.vanish()
		}
		synctest.Wait()
		assert.Zero(t, c.stats(t).Subscribers)
	})
}

// badNotifyInput: every bad request gets a one-line 4xx and changes
// nothing: a subscriber receives no event, /stats counts nothing, and the
// first good change afterwards has seq 1.
func badNotifyInput(t *testing.T, newHandler NewNotifyHandler) {
	verifyNoLeaks(t)
	c := serveNotifierLoopback(t, newHandler(t))
	sub := c.subscribe(t)
	c.awaitStats(t, receiveWait, "", "the subscriber to be registered", func(s notifyapi.Stats) bool { return s.Subscribers == 1 })
	quiet := notifyapi.Stats{Subscribers: 1}
	tooLarge := `"` + strings.Repeat("x", notifyapi.MaxBodyBytes-1) + `"` // valid JSON, one byte over

	for _, tc := range []struct {
		method, target, body string
		status               int
	}{
		{"POST", "/resources", `{"name":`, http.StatusBadRequest},
		{"POST", "/resources", ``, http.StatusBadRequest},
		{"POST", "/resources", `{"a":1} {"b":2}`, http.StatusBadRequest},
		{"POST", "/resources", tooLarge, http.StatusRequestEntityTooLarge},
		{"PUT", "/resources/1", `{}`, http.StatusNotFound},
		{"PUT", "/resources/x", `{}`, http.StatusNotFound},
		{"GET", "/resources/1", ``, http.StatusNotFound},
		{"GET", "/resources/0", ``, http.StatusNotFound},
		{"GET", "/resources/-1", ``, http.StatusNotFound},
		{"GET", "/resources/99999999999999999999", ``, http.StatusNotFound},
		{"GET", "/resources", ``, http.StatusMethodNotAllowed},
		{"DELETE", "/resources/1", ``, http.StatusMethodNotAllowed},
		{"POST", "/stats", `{}`, http.StatusMethodNotAllowed},
		{"GET", "/events", ``, http.StatusNotFound},
		{"GET", "/ws", ``, http.StatusBadRequest}, // not a websocket handshake
	} {
		t.Run(tc.method+" "+shorten(tc.target)+" "+shorten(tc.body), func(t *testing.T) {
			status, body := c.do(t, tc.method, tc.target, tc.body)
			assert.Equal(t, tc.status, status, "status; body %q", body)
			assert.Regexp(t, `^[^\n]+\n$`, body, "a one-line message")
			assert.Equal(t, quiet, c.stats(t), "nothing changed")
		})
	}

	t.Run("websocket from a foreign origin", func(t *testing.T) {
		header := http.Header{"Origin": {"http://elsewhere.example"}}
		_, resp, err := c.dialer.DialContext(t.Context(), "ws"+strings.TrimPrefix(c.base, "http")+"/ws", header)
		require.ErrorIs(t, err, websocket.ErrBadHandshake)
		resp.Body.Close()
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		assert.Equal(t, quiet, c.stats(t), "nothing changed")
	})

	justRight := `"` + strings.Repeat("x", notifyapi.MaxBodyBytes-2) + `"`
	e := c.create(t, justRight)
	assert.Equal(t, notifyapi.Event{Event: notifyapi.Created, ID: 1, Seq: 1}, e, "the first good change")
	got, err := sub.next(receiveWait)
	require.NoError(t, err)
	assert.Equal(t, e, got, "the subscriber's first event is the first good change")
	status, body := c.do(t, "GET", "/resources/1", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, justRight+"\n", body)
	assert.Equal(t, notifyapi.Event{Event: notifyapi.Modified, ID: 1, Seq: 2}, c.modify(t, 1, `[]`))

	sub.leave()
	awaitRemoved(t, c, "the subscriber left")
}

// isTimeout reports whether err is a deadline passing.
func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}
