package labbench

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"concurrencylab/internal/labtest"
	"concurrencylab/internal/notifyapi"
	"concurrencylab/internal/notifycheck"
	"concurrencylab/internal/scenario"
)

// The fan-out benchmark's shape: benchSubscribers subscribers on loopback,
// and at most benchWindow events published but not yet received by all of
// them. The window keeps the publisher from outrunning the subscribers (a
// safe hub drops a subscriber QueueLen events behind), so the benchmark
// measures delivery, not dropping.
const (
	benchSubscribers = 1000
	benchWindow      = 32
)

// benchReceiveWait bounds the wait for an event to reach every subscriber,
// and for the server to count them all, so that a broken version fails the
// benchmark instead of hanging it.
const benchReceiveWait = 10 * time.Second

// FanOut measures fan-out over real websockets: events created by POST,
// one publisher, each received by benchSubscribers subscribers on
// loopback. One op is one event received by every subscriber. It reports
// deliveries/s (events × subscribers per second) and the 99th percentile
// of publish-to-receive latency, from just before the POST to the read of
// the message. newServer starts a fresh notifier for each run and
// registers its cleanup on b.
//
// "+stalled" adds one subscriber that never reads. Its connection is an
// in-memory pipe with no buffers, so it stalls at the first event, as a
// real client does once its socket's buffers are full (on loopback, that
// takes megabytes); a safe hub drops it once QueueLen more events have
// come, so run at least a few hundred (-benchtime=500x).
//
// A broken version (the naive one) skips the stalled run, which would hang
// it, as its tests prove, and is not waited on to remove the subscribers
// when they leave, which it never does.
func FanOut(b *testing.B, newServer labtest.Factory, broken bool) {
	for _, stalled := range []bool{false, true} {
		name := fmt.Sprintf("subscribers=%d", benchSubscribers)
		if stalled {
			name += "+stalled"
		}
		b.Run(name, func(b *testing.B) {
			if stalled && broken {
				b.Skip("this version hangs on a stalled subscriber; its tests prove it")
			}
			fanOut(b, newServer(b), stalled, broken)
		})
	}
}

func fanOut(b *testing.B, srv labtest.Server, stalled, broken bool) {
	ctx := b.Context()
	c := notifycheck.NewClient(labtest.Loopback(b, srv, false), scenario.AnswerWait)
	want := int64(benchSubscribers)
	if stalled {
		// The same server, also served over in-memory pipes. InBubble
		// needs no bubble for that: only its Settle does, which this
		// never calls.
		mem := notifycheck.NewClient(labtest.InBubble(b, srv), scenario.AnswerWait)
		sub, err := mem.Subscribe(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer sub.Vanish()
		want++
	}
	f := newFanOut()
	for range benchSubscribers {
		sub, err := c.Subscribe(ctx)
		if err != nil {
			b.Fatal(err)
		}
		f.receive(sub)
	}
	awaitStats(b, c, "every subscriber to be registered", func(s notifyapi.Stats) bool { return s.Subscribers == want })

	var seq int64
	for b.Loop() {
		seq++
		if seq > benchWindow {
			f.awaitReceived(b, seq-benchWindow)
		}
		f.sentAt[seq%fanOutRing].Store(time.Now().UnixNano())
		ch, err := c.Change(ctx, http.MethodPost, "/resources", `{}`)
		if err != nil || ch.Status != http.StatusCreated || ch.Event.Seq != seq {
			b.Fatalf("event %d: %v %d %q", seq, err, ch.Status, ch.Body)
		}
	}
	f.awaitReceived(b, seq)
	b.StopTimer()

	b.ReportMetric(float64(seq*benchSubscribers)/b.Elapsed().Seconds(), "deliveries/s")
	if stalled {
		s, err := c.Stats(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(s.Dropped), "dropped")
	}
	f.leave(b)
	b.ReportMetric(float64(f.percentile(0.99))/float64(time.Millisecond), "p99-ms")
	if !broken {
		awaitStats(b, c, "every subscriber to be removed", func(s notifyapi.Stats) bool { return s.Subscribers == 0 })
	}
}

// awaitStats waits until /stats satisfies cond, and fails b if it does not
// within benchReceiveWait.
func awaitStats(b *testing.B, c *notifycheck.Client, what string, cond func(notifyapi.Stats) bool) {
	b.Helper()
	s, ok, err := c.AwaitStats(b.Context(), benchReceiveWait, time.Millisecond, cond)
	if err != nil {
		b.Fatal(err)
	}
	if !ok {
		b.Fatalf("waited %v for %s; /stats is %+v", benchReceiveWait, what, s)
	}
}

// fanOutRing is how many events' send times fanOutRun keeps: more than
// benchWindow, so a slot is reused only once every subscriber has read the
// event that had it.
const fanOutRing = 2 * benchWindow

// fanOutRun follows the events through the subscribers.
type fanOutRun struct {
	sentAt   [fanOutRing]atomic.Int64 // seq%fanOutRing: when the publisher sent it, in Unix ns
	received [fanOutRing]atomic.Int64 // seq%fanOutRing: how many subscribers have read it
	done     chan int64               // the seqs every subscriber has read, in order of completion
	readers  sync.WaitGroup
	subs     []*notifycheck.Subscription

	mu        sync.Mutex      // guards latencies and failed
	latencies []time.Duration // publish to receive, of every delivery
	failed    error
}

func newFanOut() *fanOutRun {
	return &fanOutRun{done: make(chan int64, fanOutRing)}
}

// receive reads events on sub in a goroutine until it is closed.
func (f *fanOutRun) receive(sub *notifycheck.Subscription) {
	f.subs = append(f.subs, sub)
	f.readers.Go(func() {
		var latencies []time.Duration
		defer func() {
			f.mu.Lock()
			f.latencies = append(f.latencies, latencies...)
			f.mu.Unlock()
		}()
		for {
			e, err := sub.Next(0)
			if errors.Is(err, notifycheck.ErrNotEvent) {
				f.fail(err)
				return
			}
			if err != nil {
				return // the benchmark has closed it
			}
			now := time.Now().UnixNano()
			latencies = append(latencies, time.Duration(now-f.sentAt[e.Seq%fanOutRing].Load()))
			if f.received[e.Seq%fanOutRing].Add(1) == benchSubscribers {
				f.received[e.Seq%fanOutRing].Store(0)
				f.done <- e.Seq
			}
		}
	})
}

func (f *fanOutRun) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failed == nil {
		f.failed = err
	}
}

// awaitReceived waits until every subscriber has read event seq and every
// one before it.
func (f *fanOutRun) awaitReceived(b *testing.B, seq int64) {
	for {
		select {
		case done := <-f.done:
			if done >= seq {
				return
			}
		case <-time.After(benchReceiveWait):
			b.Fatalf("event %d did not reach every subscriber within %v", seq, benchReceiveWait)
		}
	}
}

// leave closes every subscriber and collects the latencies.
func (f *fanOutRun) leave(b *testing.B) {
	for _, sub := range f.subs {
		sub.Leave()
	}
	f.readers.Wait()
	if f.failed != nil {
		b.Fatal(f.failed)
	}
}

// percentile returns the latency that a fraction p of deliveries beat.
func (f *fanOutRun) percentile(p float64) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.latencies) == 0 {
		return 0
	}
	slices.Sort(f.latencies)
	return f.latencies[int(p*float64(len(f.latencies)-1))]
}
