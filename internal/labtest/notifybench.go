package labtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"concurrencylab/internal/notifyapi"
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

// BenchmarkFanOut measures fan-out over real websockets: events created by
// POST, one publisher, each received by benchSubscribers subscribers on
// loopback. One op is one event received by every subscriber. It reports
// deliveries/s (events × subscribers per second) and the 99th percentile
// of publish-to-receive latency, from just before the POST to the read of
// the message.
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
func BenchmarkFanOut(b *testing.B, newHandler NewNotifyHandler, broken bool) {
	for _, stalled := range []bool{false, true} {
		name := fmt.Sprintf("subscribers=%d", benchSubscribers)
		if stalled {
			name += "+stalled"
		}
		b.Run(name, func(b *testing.B) {
			if stalled && broken {
				b.Skip("this version hangs on a stalled subscriber; its tests prove it")
			}
			benchmarkFanOut(b, newHandler(b), stalled, broken)
		})
	}
}

func benchmarkFanOut(b *testing.B, h http.Handler, stalled, broken bool) {
	c := serveNotifierLoopback(b, h)
	want := int64(benchSubscribers)
	if stalled {
		mem := serveInMemory(b, h)
		stall := &notifyClient{base: mem.url, dialer: &websocket.Dialer{NetDialContext: mem.dial}}
		sub, err := stall.dial(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		defer sub.vanish()
		want++
	}
	f := newFanOut()
	for range benchSubscribers {
		sub, err := c.dial(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		f.receive(b, sub)
	}
	c.awaitStats(b, receiveWait, "", "every subscriber to be registered", func(s notifyapi.Stats) bool { return s.Subscribers == want })

	var seq int64
	for b.Loop() {
		seq++
		if seq > benchWindow {
			f.awaitReceived(b, seq-benchWindow)
		}
		f.sentAt[seq%fanOutRing].Store(time.Now().UnixNano())
		ch, err := c.change(b.Context(), "POST", "/resources", `{}`)
		if err != nil || ch.status != http.StatusCreated || ch.event.Seq != seq {
			b.Fatalf("event %d: %v %d %q", seq, err, ch.status, ch.body)
		}
	}
	f.awaitReceived(b, seq)
	b.StopTimer()

	b.ReportMetric(float64(seq*benchSubscribers)/b.Elapsed().Seconds(), "deliveries/s")
	if stalled {
		b.ReportMetric(float64(c.stats(b).Dropped), "dropped")
	}
	f.leave(b)
	b.ReportMetric(float64(f.percentile(0.99))/float64(time.Millisecond), "p99-ms")
	if !broken {
		c.awaitStats(b, receiveWait, "", "every subscriber to be removed", func(s notifyapi.Stats) bool { return s.Subscribers == 0 })
	}
}

// fanOutRing is how many events' send times fanOut keeps: more than
// benchWindow, so a slot is reused only once every subscriber has read the
// event that had it.
const fanOutRing = 2 * benchWindow

// fanOut follows the events through the subscribers.
type fanOut struct {
	sentAt   [fanOutRing]atomic.Int64 // seq%fanOutRing: when the publisher sent it, in Unix ns
	received [fanOutRing]atomic.Int64 // seq%fanOutRing: how many subscribers have read it
	done     chan int64               // the seqs every subscriber has read, in order of completion
	readers  sync.WaitGroup
	subs     []*wsClient

	mu        sync.Mutex      // guards latencies and failed
	latencies []time.Duration // publish to receive, of every delivery
	failed    error
}

func newFanOut() *fanOut {
	return &fanOut{done: make(chan int64, fanOutRing)}
}

// receive reads events on sub in a goroutine until it is closed.
func (f *fanOut) receive(b *testing.B, sub *wsClient) {
	f.subs = append(f.subs, sub)
	f.readers.Go(func() {
		var latencies []time.Duration
		defer func() {
			f.mu.Lock()
			f.latencies = append(f.latencies, latencies...)
			f.mu.Unlock()
		}()
		for {
			_, msg, err := sub.conn.ReadMessage()
			if err != nil {
				return // the benchmark has closed it
			}
			now := time.Now().UnixNano()
			var e notifyapi.Event
			if err := json.Unmarshal(msg, &e); err != nil {
				f.fail(err)
				return
			}
			latencies = append(latencies, time.Duration(now-f.sentAt[e.Seq%fanOutRing].Load()))
			if f.received[e.Seq%fanOutRing].Add(1) == benchSubscribers {
				f.received[e.Seq%fanOutRing].Store(0)
				f.done <- e.Seq
			}
		}
	})
}

func (f *fanOut) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failed == nil {
		f.failed = err
	}
}

// awaitReceived waits until every subscriber has read event seq and every
// one before it.
func (f *fanOut) awaitReceived(b *testing.B, seq int64) {
	for {
		select {
		case done := <-f.done:
			if done >= seq {
				return
			}
		case <-time.After(receiveWait):
			b.Fatalf("event %d did not reach every subscriber within %v", seq, receiveWait)
		}
	}
}

// leave closes every subscriber and collects the latencies.
func (f *fanOut) leave(b *testing.B) {
	for _, sub := range f.subs {
		sub.leave()
	}
	f.readers.Wait()
	if f.failed != nil {
		b.Fatal(f.failed)
	}
}

// percentile returns the latency that a fraction p of deliveries beat.
func (f *fanOut) percentile(p float64) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.latencies) == 0 {
		return 0
	}
	slices.Sort(f.latencies)
	return f.latencies[int(p*float64(len(f.latencies)-1))]
}
