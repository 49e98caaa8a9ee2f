package notifycheck

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"concurrencylab/internal/notifyapi"
	"concurrencylab/internal/scenario"
)

// The notifier's load under the harness.
const (
	driveSubscribers = 8 // reading subscribers during the bursts of changes
	// publishers change resources at once, at publishRate changes a second
	// in all. The safe versions drop a subscriber that falls QueueLen
	// events behind, and the harness's subscribers share the cores with
	// the server and the load: an uncapped flood would have them dropped
	// as too slow, which is the policy working, not a bug. The capacity of
	// the fan-out is measured by the fan-out benchmark instead.
	publishers  = 4
	publishRate = 2000
	// checkWait bounds each request that checks the server's state, and
	// each change made while a subscriber stalls: a server under no load
	// answers in microseconds.
	checkWait = 2 * time.Second
	// drivePoll is how often the drive reads /stats while it waits.
	drivePoll = 10 * time.Millisecond
	// deliverWait bounds how long the subscribers may take to receive
	// every event once the changes are answered.
	deliverWait = 5 * time.Second
	// quietWait bounds how long the subscribers may read nothing while
	// some have not had every event.
	quietWait = time.Second
	// removeWait bounds how long a server may take to notice that the
	// subscribers have gone: the safe versions notice in milliseconds.
	removeWait = time.Second
	// stallPublishers change resources at once while a subscriber stalls.
	stallPublishers = 4
	// maxStallEvents bounds the changes sent to fill a stalled
	// subscriber's socket buffers (about 40,000 fill them on Linux).
	maxStallEvents = 200_000
)

// drive checks the three promises of the safe notifiers under the
// harness's load, in turn: every subscriber receives every event, in
// order, under a burst of changes; subscribers that leave are removed; and
// a subscriber that stops reading is dropped while changes go on being
// answered (left out if tg.Load.Short()).
func drive(ctx context.Context, tg *scenario.Target) (string, error) {
	c := NewClient(tg, checkWait)
	subs, err := followAll(ctx, c, driveSubscribers)
	if err != nil {
		return "", err
	}
	defer closeAll(subs)
	// Subscribed means counted by the server: a handshake can end before
	// the server has added the subscriber.
	if err := awaitSubscribers(ctx, c, len(subs)); err != nil {
		return "", err
	}

	spec, count := tg.Load.Spec("/resources")
	burst := scenario.Burst{Method: http.MethodPost, Path: "/resources", Body: []byte(`{"name":"load"}`), ContentType: "application/json",
		N: max(publishers, spec.N/2), C: publishers, QPS: publishRate}
	changed, err := scenario.SendAll(ctx, tg, burst, count)
	if err != nil {
		return "", err
	}
	// Every change answered is an event every subscriber must get.
	published := int64(changed)
	if err := awaitDelivery(subs, published); err != nil {
		return "", err
	}

	for _, sub := range subs {
		sub.leave()
	}
	st, ok, err := c.AwaitStats(ctx, removeWait, drivePoll, func(st notifyapi.Stats) bool { return st.Subscribers == 0 })
	switch {
	case err != nil:
		return "", fmt.Errorf("%d subscribers left; %w", len(subs), err)
	case !ok:
		return "", NeverRemoved.Errorf("%d subscribers left; GET /stats after %v: %+v", len(subs), removeWait, st)
	}

	who := fmt.Sprintf("%d subscribers", len(subs))
	if len(tg.Replicas) > 0 {
		who += fmt.Sprintf(" on %d replicas", len(tg.Replicas))
	}
	switch {
	case tg.Load.Short():
		return fmt.Sprintf("%s got all %d events in order (%d/s), left and were removed (-short: no stalled subscriber)",
			who, published, publishRate), nil
	case len(tg.Replicas) > 0:
		// A stalled subscriber behind a proxy fills the proxy's socket
		// buffers too before its replica's: minutes of changes. The
		// replicas drop it as one server does, which that row shows.
		return fmt.Sprintf("%s got all %d events in order (%d/s), left and were removed (no stalled subscriber behind the proxy)",
			who, published, publishRate), nil
	}
	stalledAfter, err := stallOne(ctx, c)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d subscribers got all %d events in order (%d/s), left and were removed; a stalled one was dropped after %d events",
		len(subs), published, publishRate, stalledAfter), nil
}

// awaitSubscribers waits until the server counts n subscribers. Behind a
// proxy, /stats answers from one replica: a replica whose counts are its
// own has only its share, so there the replicas' counts, added up, must
// come to n instead.
func awaitSubscribers(ctx context.Context, c *Client, n int) error {
	var st notifyapi.Stats
	ok, err := scenario.Await(ctx, checkWait, drivePoll, func() (bool, error) {
		var err error
		if st, err = c.Stats(ctx); err != nil || st.Subscribers == int64(n) {
			return err == nil, err
		}
		if len(c.tg.Replicas) == 0 {
			return false, nil
		}
		var sum int64
		for _, url := range c.tg.Replicas {
			replica := *c.tg
			replica.URL, replica.Replicas = url, nil
			rst, err := NewClient(&replica, checkWait).Stats(ctx)
			if err != nil {
				return false, err
			}
			sum += rst.Subscribers
		}
		return sum == int64(n), nil
	})
	switch {
	case err != nil:
		return fmt.Errorf("%d subscribers connected; %w", n, err)
	case !ok:
		return fmt.Errorf("%d subscribers connected; GET /stats after %v: %+v", n, checkWait, st)
	}
	return nil
}

// A follower is a subscriber that reads and checks every event in a
// goroutine of its own.
type follower struct {
	sub      *Subscription
	received atomic.Int64 // events read so far
	done     chan struct{}
	mu       sync.Mutex // guards problem
	problem  string     // the first event out of order, if any
}

// followAll subscribes n followers.
func followAll(ctx context.Context, c *Client, n int) ([]*follower, error) {
	var subs []*follower
	for range n {
		sub, err := c.Subscribe(ctx)
		if err != nil {
			closeAll(subs)
			return nil, err
		}
		f := &follower{sub: sub, done: make(chan struct{})}
		go f.read()
		subs = append(subs, f)
	}
	return subs, nil
}

// read reads events until the connection ends, checking that their seq
// numbers come one after the other.
func (f *follower) read() {
	defer close(f.done)
	var last int64
	for {
		_, msg, err := f.sub.conn.ReadMessage()
		if err != nil {
			return
		}
		var e notifyapi.Event
		if err := json.Unmarshal(msg, &e); err != nil || e.Seq != last+1 {
			f.mu.Lock()
			if f.problem == "" {
				f.problem = fmt.Sprintf("after seq %d got %q", last, msg)
			}
			f.mu.Unlock()
		}
		last = e.Seq
		f.received.Add(1)
	}
}

// leave leaves as a browser tab does, and waits for the reader to stop.
func (f *follower) leave() {
	f.sub.Leave()
	<-f.done
}

func closeAll(subs []*follower) {
	for _, f := range subs {
		f.sub.Vanish()
	}
}

// awaitDelivery waits until every follower has read every one of the
// published events: at most deliverWait in all, and at most quietWait
// after the last event any of them read, since a subscriber that has
// missed events waits in vain (a replica that announced only its own).
func awaitDelivery(subs []*follower, published int64) error {
	deadline := time.Now().Add(deliverWait)
	total := func() (n int64) {
		for _, f := range subs {
			n += f.received.Load()
		}
		return n
	}
	last, lastAt := total(), time.Now()
	for i, f := range subs {
		for f.received.Load() < published && time.Now().Before(deadline) && time.Since(lastAt) < quietWait {
			time.Sleep(5 * time.Millisecond)
			if n := total(); n != last {
				last, lastAt = n, time.Now()
			}
		}
		f.mu.Lock()
		problem := f.problem
		f.mu.Unlock()
		if problem != "" {
			return fmt.Errorf("subscriber %d: events out of order: %s", i+1, problem)
		}
		if got := f.received.Load(); got != published {
			return NeverDelivered.Errorf("subscriber %d got %d of %d events, and no more for %v", i+1, got, published, time.Since(lastAt).Round(100*time.Millisecond))
		}
	}
	return nil
}

// stallOne connects a subscriber that never reads, with a real network's
// buffers (StalledDialer; or over the target's in-memory pipes, which have
// none), and changes resources until the server drops it: the
// safe versions answer every change meanwhile. It returns how many events
// that took.
func stallOne(ctx context.Context, c *Client) (int64, error) {
	d := newDialer(c.tg.DialContext, checkWait)
	if d.NetDialContext == nil {
		d.NetDialContext = StalledDialer().DialContext
	}
	stalled, err := c.subscribe(ctx, d, nil)
	if err != nil {
		return 0, err
	}
	defer stalled.Vanish()
	before, err := c.Stats(ctx)
	if err != nil {
		return 0, err
	}

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	var sent atomic.Int64
	errs := make(chan error, stallPublishers)
	for range stallPublishers {
		wg.Go(func() {
			for ctx.Err() == nil && sent.Add(1) <= maxStallEvents {
				if _, err := c.Create(ctx, `{"name":"stall"}`); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		})
	}
	dropped := make(chan notifyapi.Stats, 1)
	wg.Go(func() {
		for ctx.Err() == nil {
			if st, err := c.Stats(ctx); err == nil && st.Dropped > before.Dropped {
				dropped <- st
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	})

	for range stallPublishers {
		select {
		case st := <-dropped:
			if st.Subscribers != 0 {
				return 0, NeverRemoved.Errorf("a stalled subscriber was dropped, but /stats says %+v", st)
			}
			return st.Published - before.Published, nil
		case err := <-errs:
			if err != nil {
				return 0, fmt.Errorf("a subscriber stopped reading; after %d changes, %w", sent.Load(), err)
			}
		}
	}
	return 0, NeverRemoved.Errorf("a subscriber stopped reading and was not dropped after %d changes", maxStallEvents)
}

// StalledDialer dials for a subscriber that will never read, with the
// buffers it would have across a real network (see stalledSocket), so that
// they fill after a thousand events or so, not tens of thousands.
func StalledDialer() *net.Dialer {
	return &net.Dialer{Control: stalledSocket}
}
