package notifycheck

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"concurrencylab/internal/notifyapi"
	"concurrencylab/internal/scenario"
)

// The load of EveryEventToEverySubscriber: fanSubscribers subscribers, and
// fanPublishers publishers making fanEvents changes between them. Under
// -race, which slows every request several times over, half of that.
var fanSubscribers, fanPublishers, fanEvents = fanLoad()

func fanLoad() (subscribers, publishers, events int) {
	if scenario.RaceEnabled {
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
// generous bound, not a delay (the harness's drive allows as long). A
// version that never removes one fails only when it runs out.
const removalWait = time.Second

// publishDeadline bounds one POST or PUT, and one GET /stats, of a
// scenario. Publishing never waits for a subscriber, so on loopback it
// takes well under a millisecond; one that takes this long has hung.
const publishDeadline = 2 * time.Second

// statsPoll is how often a scenario reads /stats while it waits for a
// count.
const statsPoll = time.Millisecond

// The scenarios of the notifier contract (see NewRouter): every live
// subscriber receives every event, in order, exactly once, while
// publishers publish at once; a subscriber that leaves, stalls, goes
// silent or sends too much is removed, within a bounded time and without
// delaying the others; bad input is answered with a 4xx that changes
// nothing. After each scenario no subscriber is counted. The timing
// scenarios run on a fake clock, over in-memory connections; the others on
// loopback.
var scenarios = []scenario.Scenario{
	{Name: "EveryEventToEverySubscriber", Run: withSubscribers(everyEventToEverySubscriber)},
	{Name: "SubscribersComeAndGo", Run: withSubscribers(subscribersComeAndGo)},
	{Name: "DisconnectedSubscriberIsRemoved", Needs: scenario.FakeClock, Run: withSubscribers(disconnectedSubscriberIsRemoved)},
	{Name: "StalledSubscriberIsDropped", Needs: scenario.FakeClock, Run: withSubscribers(stalledSubscriberIsDropped)},
	{Name: "SilentSubscriberTimesOut", Needs: scenario.FakeClock, Run: withSubscribers(silentSubscriberTimesOut)},
	{Name: "OversizedFrameEndsSubscriber", Needs: scenario.FakeClock, Run: withSubscribers(oversizedFrameEndsSubscriber)},
	{Name: "ShutdownSaysGoodbye", Needs: scenario.FakeClock | scenario.Shutdown, Run: withSubscribers(shutdownSaysGoodbye)},
	{Name: "BadInputChangesNothing", Run: withSubscribers(badInputChangesNothing)},
}

// A run is one scenario's body, with a client of its target and the set
// of its subscribers.
type run func(ctx context.Context, tg *scenario.Target, c *Client, subs *subscribers) error

// withSubscribers runs body with a client whose requests get
// publishDeadline, and closes the subscribers it subscribed when it
// returns, if it passed. A scenario that failed leaves them connected:
// closing them could wake a broken server's goroutine into waiting on a
// mutex that a hung publish holds, and in a synctest bubble that would
// hang the test instead of failing it (a goroutine waiting on a mutex is
// not durably blocked, so the bubble never sees the deadlock).
func withSubscribers(body run) func(ctx context.Context, tg *scenario.Target) error {
	return func(ctx context.Context, tg *scenario.Target) error {
		c := NewClient(tg, publishDeadline)
		subs := &subscribers{c: c}
		err := body(ctx, tg, c, subs)
		if err == nil {
			for _, sub := range subs.all {
				sub.Vanish()
			}
		}
		return err
	}
}

// subscribers are a scenario's subscribers, which withSubscribers closes.
type subscribers struct {
	c   *Client
	all []*Subscription
}

// add connects a subscriber, which the scenario may close itself too.
func (ss *subscribers) add(ctx context.Context) (*Subscription, error) {
	sub, err := ss.c.Subscribe(ctx)
	if err != nil {
		return nil, err
	}
	ss.all = append(ss.all, sub)
	return sub, nil
}

// addN connects n subscribers.
func (ss *subscribers) addN(ctx context.Context, n int) ([]*Subscription, error) {
	subs := make([]*Subscription, n)
	for i := range subs {
		sub, err := ss.add(ctx)
		if err != nil {
			return nil, err
		}
		subs[i] = sub
	}
	return subs, nil
}

// awaitStats polls /stats until cond holds, and fails if it does not within
// wait, with f if it is not nil.
func awaitStats(ctx context.Context, c *Client, wait time.Duration, f *scenario.Failure, what string, cond func(notifyapi.Stats) bool) error {
	s, ok, err := c.AwaitStats(ctx, wait, statsPoll, cond)
	if err != nil || ok {
		return err
	}
	if f != nil {
		return f.Errorf("waited %v for %s; /stats is %+v", wait, what, s)
	}
	return fmt.Errorf("waited %v for %s; /stats is %+v", wait, what, s)
}

// awaitRemoved waits until /stats counts no subscriber, and fails with
// NeverRemoved if that takes longer than removalWait.
func awaitRemoved(ctx context.Context, c *Client, what string) error {
	return awaitStats(ctx, c, removalWait, &NeverRemoved, what+" and none to be counted", func(s notifyapi.Stats) bool { return s.Subscribers == 0 })
}

// expectStats fails unless /stats is want.
func expectStats(ctx context.Context, c *Client, want notifyapi.Stats, what string) error {
	s, err := c.Stats(ctx)
	if err != nil {
		return err
	}
	if s != want {
		return fmt.Errorf("%s: /stats is %+v, want %+v", what, s, want)
	}
	return nil
}

// expectSubscribers fails unless /stats counts n subscribers.
func expectSubscribers(ctx context.Context, c *Client, n int64, what string) error {
	s, err := c.Stats(ctx)
	if err != nil {
		return err
	}
	if s.Subscribers != n {
		return fmt.Errorf("%s: /stats counts %d subscribers, want %d", what, s.Subscribers, n)
	}
	return nil
}

// everyEventToEverySubscriber: subscribers stay while publishers create and
// modify resources at once. Each subscriber receives every event exactly
// once, in order (seq 1, 2, 3...), each the event its publisher was told;
// /stats counts every delivery. When they all leave, none is counted.
func everyEventToEverySubscriber(ctx context.Context, _ *scenario.Target, c *Client, ss *subscribers) error {
	subs, err := ss.addN(ctx, fanSubscribers)
	if err != nil {
		return err
	}
	err = awaitStats(ctx, c, receiveWait, nil, "every subscriber to be registered", func(s notifyapi.Stats) bool {
		return s.Subscribers == int64(fanSubscribers)
	})
	if err != nil {
		return err
	}

	received := make([][]notifyapi.Event, len(subs))
	receiveErrs := make([]error, len(subs))
	var receivers sync.WaitGroup
	for i, sub := range subs {
		receivers.Go(func() {
			for range fanEvents {
				e, err := sub.Next(receiveWait)
				if err != nil {
					receiveErrs[i] = fmt.Errorf("subscriber %d, after %d events: %w", i, len(received[i]), err)
					return
				}
				received[i] = append(received[i], e)
			}
		})
	}
	published, err := publishAll(ctx, c, fanPublishers, fanEvents)
	if err != nil {
		return err
	}
	receivers.Wait()

	for i := range subs {
		if receiveErrs[i] != nil {
			return receiveErrs[i]
		}
		for j, e := range received[i] {
			if e != published[j] {
				return fmt.Errorf("subscriber %d, event %d: got %+v, want %+v", i, j+1, e, published[j])
			}
		}
	}
	n := int64(fanEvents)
	err = awaitStats(ctx, c, receiveWait, nil, "every delivery to be counted", func(s notifyapi.Stats) bool { return s.Delivered == n*int64(fanSubscribers) })
	if err != nil {
		return err
	}
	err = expectStats(ctx, c, notifyapi.Stats{Subscribers: int64(fanSubscribers), Published: n, Delivered: n * int64(fanSubscribers)}, "every event delivered")
	if err != nil {
		return err
	}

	for _, sub := range subs {
		sub.Leave()
	}
	return awaitRemoved(ctx, c, fmt.Sprintf("%d subscribers left", len(subs)))
}

// publishAll makes events changes from publishers goroutines at once: each
// creates a resource and then modifies it, by turns. It returns the events
// the server answered, by seq (published[0] has seq 1), after checking that
// the seqs are 1 to events with none twice.
func publishAll(ctx context.Context, c *Client, publishers, events int) ([]notifyapi.Event, error) {
	bySeq := make([]notifyapi.Event, events)
	var mu sync.Mutex // guards bySeq and failed
	var failed error
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			var id int64
			for i := p; i < events; i += publishers {
				method, path := http.MethodPost, "/resources"
				if id != 0 && i%2 == 1 {
					method, path = http.MethodPut, fmt.Sprintf("/resources/%d", id)
				}
				ch, err := c.Change(ctx, method, path, fmt.Sprintf(`{"publisher":%d,"change":%d}`, p, i))
				if err == nil && ch.Status/100 != 2 {
					err = fmt.Errorf("%s %s: %d %q", method, path, ch.Status, ch.Body)
				}
				mu.Lock()
				switch {
				case err != nil:
					failed = err
				case ch.Event.Seq < 1 || ch.Event.Seq > int64(events) || bySeq[ch.Event.Seq-1].Seq != 0:
					failed = fmt.Errorf("%s %s got seq %d: out of 1..%d, or given twice", method, path, ch.Event.Seq, events)
				default:
					bySeq[ch.Event.Seq-1] = ch.Event
				}
				stop := failed != nil
				mu.Unlock()
				if stop {
					return
				}
				id = ch.Event.ID
			}
		})
	}
	wg.Wait()
	return bySeq, failed
}

// subscribersComeAndGo: while publishers publish without a pause,
// subscribers keep coming, reading a few events, and leaving, half of them
// politely and half by vanishing. No publish waits for them, each receives
// events with consecutive seqs, and in the end none is counted.
func subscribersComeAndGo(ctx context.Context, _ *scenario.Target, c *Client, _ *subscribers) error {
	// The first failure, or churnDone, cancels everything.
	churnCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	churnDone := errors.New("every churner is done")

	var publishers sync.WaitGroup
	for range fanPublishers {
		publishers.Go(func() {
			for churnCtx.Err() == nil {
				if _, err := c.Change(churnCtx, http.MethodPost, "/resources", `{}`); err != nil && churnCtx.Err() == nil {
					cancel(err)
				}
			}
		})
	}
	var churn sync.WaitGroup
	for i := range churners {
		churn.Go(func() {
			for round := 0; round < churnRounds && churnCtx.Err() == nil; round++ {
				if err := comeAndGo(churnCtx, c, i%2 == 0); err != nil && churnCtx.Err() == nil {
					cancel(fmt.Errorf("churner %d, round %d: %w", i, round, err))
				}
			}
		})
	}
	churn.Wait()
	cancel(churnDone)
	publishers.Wait()
	if err := context.Cause(churnCtx); err != churnDone {
		return err
	}
	return awaitRemoved(ctx, c, fmt.Sprintf("%d subscribers came and left", churners*churnRounds))
}

// comeAndGo subscribes, reads churnEvents events, checks that their seqs
// are consecutive, and leaves; at once if ctx ends.
func comeAndGo(ctx context.Context, c *Client, polite bool) error {
	sub, err := c.Subscribe(ctx)
	if err != nil {
		return err
	}
	defer context.AfterFunc(ctx, sub.Vanish)()
	if polite {
		defer sub.Leave()
	} else {
		defer sub.Vanish()
	}
	var last int64
	for range churnEvents {
		e, err := sub.Next(receiveWait)
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
func disconnectedSubscriberIsRemoved(ctx context.Context, tg *scenario.Target, c *Client, ss *subscribers) error {
	subs, err := ss.addN(ctx, 2)
	if err != nil {
		return err
	}
	stays, leaves := subs[0], subs[1]
	tg.Settle() // both are registered
	if err := expectSubscribers(ctx, c, 2, "both subscribed"); err != nil {
		return err
	}

	leaves.Leave()
	tg.Settle() // the server has noticed, if it ever will
	s, err := c.Stats(ctx)
	if err != nil {
		return err
	}
	if s.Subscribers != 1 {
		return NeverRemoved.Errorf("one of two subscribers closed its connection, but /stats still counts %d", s.Subscribers)
	}

	start := time.Now()
	e, err := c.Create(ctx, `{"name":"after"}`)
	if err != nil {
		return err
	}
	if took := time.Since(start); took != 0 {
		return fmt.Errorf("the change took %v, not returning at once", took)
	}
	got, err := stays.Next(time.Second)
	if err != nil {
		return fmt.Errorf("the subscriber that stayed: %w", err)
	}
	if got != e {
		return fmt.Errorf("the subscriber that stayed got %+v, want %+v", got, e)
	}
	stays.Leave()
	tg.Settle()
	return expectStats(ctx, c, notifyapi.Stats{Published: 1, Delivered: 1}, "both gone")
}

// stalledSubscriberIsDropped, on a fake clock and unbuffered connections: a
// subscriber that never reads blocks its writer at the first event. Events
// keep coming, and every change returns at once and reaches the subscriber
// that reads; when the stalled one's queue is full, it is dropped. Its
// writer gives up WriteWait after the write began.
func stalledSubscriberIsDropped(ctx context.Context, tg *scenario.Target, c *Client, ss *subscribers) error {
	subs, err := ss.addN(ctx, 2)
	if err != nil {
		return err
	}
	reads, stalled := subs[0], subs[1]
	tg.Settle()

	// One event for the stalled writer to block on, QueueLen to fill its
	// queue, and one more that finds it full.
	const events = 1 + notifyapi.QueueLen + 1
	start := time.Now()
	for i := range events {
		ch, err := c.Change(ctx, http.MethodPost, "/resources", `{}`)
		if err != nil {
			return fmt.Errorf("event %d of %d: %w", i+1, events, err)
		}
		if ch.Status != http.StatusCreated {
			return fmt.Errorf("event %d of %d: POST /resources: %d %q", i+1, events, ch.Status, ch.Body)
		}
		got, err := reads.Next(time.Second)
		if err != nil {
			return fmt.Errorf("the reading subscriber, event %d: %w", i+1, err)
		}
		if got != ch.Event {
			return fmt.Errorf("the reading subscriber, event %d: got %+v, want %+v", i+1, got, ch.Event)
		}
	}
	if took := time.Since(start); took != 0 {
		return fmt.Errorf("the changes took %v: one waited for the stalled subscriber", took)
	}
	tg.Settle()
	if err := expectStats(ctx, c, notifyapi.Stats{Subscribers: 1, Published: events, Delivered: events, Dropped: 1}, "the stalled one dropped"); err != nil {
		return err
	}

	time.Sleep(notifyapi.WriteWait)
	tg.Settle() // the stalled writer has given up and closed the connection
	_, err = stalled.Next(time.Second)
	switch {
	case err == nil:
		return errors.New("the stalled subscriber got an event, but its connection should be closed")
	case isTimeout(err):
		return fmt.Errorf("the stalled subscriber's connection is quiet, not closed: %v", err)
	}
	reads.Leave()
	tg.Settle()
	return expectSubscribers(ctx, c, 0, "the reading one left")
}

// silentSubscriberTimesOut, on a fake clock: a client that vanishes without
// closing (a dropped network) says nothing more, not even a pong to the
// server's pings. It is removed exactly PongWait after it last spoke; a
// client that answers pings stays as long as it likes.
func silentSubscriberTimesOut(ctx context.Context, tg *scenario.Target, c *Client, ss *subscribers) error {
	// The second is silent: it never reads, so it never answers a ping.
	subs, err := ss.addN(ctx, 2)
	if err != nil {
		return err
	}
	answers := subs[0]
	answered := make(chan error, 1)
	go func() {
		_, err := answers.Next(time.Hour) // reading answers pings; no event comes
		answered <- err
	}()
	tg.Settle()

	time.Sleep(notifyapi.PongWait - time.Millisecond)
	tg.Settle()
	if err := expectSubscribers(ctx, c, 2, "just before PongWait, both are counted"); err != nil {
		return err
	}
	time.Sleep(time.Millisecond)
	tg.Settle()
	s, err := c.Stats(ctx)
	if err != nil {
		return err
	}
	if s.Subscribers != 1 {
		return NeverRemoved.Errorf("a subscriber silent for %v, with no pong to a ping, is still counted (%d subscribers)", notifyapi.PongWait, s.Subscribers)
	}

	time.Sleep(5 * notifyapi.PongWait)
	tg.Settle()
	if err := expectSubscribers(ctx, c, 1, "the subscriber that answers pings stays"); err != nil {
		return err
	}
	answers.Leave()
	if err := <-answered; err == nil {
		return errors.New("the subscriber that answers pings got an event, but none was published")
	}
	tg.Settle()
	return expectSubscribers(ctx, c, 0, "both gone")
}

// oversizedFrameEndsSubscriber, on a fake clock: a subscriber may send a
// frame of MaxFrameBytes, but one byte more ends its connection with 1009
// (message too big), at once.
func oversizedFrameEndsSubscriber(ctx context.Context, tg *scenario.Target, c *Client, ss *subscribers) error {
	sub, err := ss.add(ctx)
	if err != nil {
		return err
	}
	tg.Settle()
	write := func(n int) error { return sub.Write([]byte(strings.Repeat("x", n)), time.Second) }

	if err := write(notifyapi.MaxFrameBytes); err != nil {
		return NeverRemoved.Errorf("the server reads nothing its subscribers send (a frame of %d bytes was not taken: %v), so it can notice neither a close nor a frame over the limit",
			notifyapi.MaxFrameBytes, err)
	}
	tg.Settle()
	if err := expectSubscribers(ctx, c, 1, "a frame of MaxFrameBytes is allowed"); err != nil {
		return err
	}

	err = write(notifyapi.MaxFrameBytes + 1)
	if err == nil {
		_, err = sub.Next(time.Second)
	}
	if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		return NeverRemoved.Errorf("after a frame of %d bytes, over the limit of %d, the subscriber's connection is not closed with 1009 (message too big): %v",
			notifyapi.MaxFrameBytes+1, notifyapi.MaxFrameBytes, err)
	}
	sub.Vanish()
	tg.Settle()
	return expectSubscribers(ctx, c, 0, "the subscriber cut off")
}

// shutdownSaysGoodbye, on a fake clock: when the server begins to shut down
// (server.Config.OnShutdown calls the handler's Shutdown), each subscriber
// gets a close frame, 1001 (going away), at once, since the server's own
// Shutdown does not wait for hijacked connections; a subscriber that comes
// after gets the same.
func shutdownSaysGoodbye(ctx context.Context, tg *scenario.Target, c *Client, ss *subscribers) error {
	if tg.Shutdown == nil {
		return errors.New("ShutdownSaysGoodbye needs a server that can be shut down (Target.Shutdown)")
	}
	subs, err := ss.addN(ctx, 2)
	if err != nil {
		return err
	}
	tg.Settle()

	tg.Shutdown()
	late, err := ss.add(ctx)
	if err != nil {
		return err
	}
	var first error
	for i, sub := range append(subs, late) {
		_, err := sub.Next(time.Second)
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) && first == nil {
			first = fmt.Errorf("subscriber %d of 3 got no goodbye (1001, going away): %v", i, err)
		}
		sub.Vanish()
	}
	if first != nil {
		return first
	}
	tg.Settle()
	return expectSubscribers(ctx, c, 0, "every subscriber told goodbye")
}

// badInputChangesNothing: every bad request of the Battery gets a one-line
// 4xx and changes nothing: a subscriber receives no event, /stats counts
// nothing, and the first good change afterwards has seq 1.
func badInputChangesNothing(ctx context.Context, tg *scenario.Target, c *Client, ss *subscribers) error {
	sub, err := ss.add(ctx)
	if err != nil {
		return err
	}
	err = awaitStats(ctx, c, receiveWait, nil, "the subscriber to be registered", func(s notifyapi.Stats) bool { return s.Subscribers == 1 })
	if err != nil {
		return err
	}
	if err := battery(&notifyapi.Stats{Subscribers: 1}).Require(ctx, tg); err != nil {
		return err
	}

	justRight := `"` + strings.Repeat("x", notifyapi.MaxBodyBytes-2) + `"`
	e, err := c.Create(ctx, justRight)
	if err != nil {
		return err
	}
	if want := (notifyapi.Event{Event: notifyapi.Created, ID: 1, Seq: 1}); e != want {
		return fmt.Errorf("the first good change is %+v, want %+v", e, want)
	}
	got, err := sub.Next(receiveWait)
	if err != nil {
		return err
	}
	if got != e {
		return fmt.Errorf("the subscriber's first event is %+v, not the first good change, %+v", got, e)
	}
	resp, err := tg.Get(ctx, "/resources/1", publishDeadline)
	if err != nil {
		return err
	}
	if resp.Status != http.StatusOK || resp.Body != justRight+"\n" {
		return fmt.Errorf("GET /resources/1: %d %q, want 200 and the body stored", resp.Status, scenario.Shorten(resp.Body))
	}
	e, err = c.Modify(ctx, 1, `[]`)
	if err != nil {
		return err
	}
	if want := (notifyapi.Event{Event: notifyapi.Modified, ID: 1, Seq: 2}); e != want {
		return fmt.Errorf("the second good change is %+v, want %+v", e, want)
	}

	sub.Leave()
	return awaitRemoved(ctx, c, "the subscriber left")
}
