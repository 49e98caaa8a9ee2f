package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"concurrencylab/internal/cluster"
	"concurrencylab/internal/labtest"
	"concurrencylab/internal/notifyapi"
	"concurrencylab/internal/notifycheck"
	"concurrencylab/internal/redislab"
	"concurrencylab/internal/scenario"
)

// TestMain runs main where TestBinaryNeedsRedis asks (labtest.RunMain),
// and otherwise fails the package if any test leaves a goroutine behind,
// such as a listener or a flusher that Close did not stop.
func TestMain(m *testing.M) {
	labtest.MainIfChild(main)
	goleak.VerifyTestMain(m, goleak.Cleanup(labtest.Exit))
}

// redisKinds are the Redis servers the suites run on: the embedded one,
// which needs nothing installed, and under the lab's own tests (-tags lab)
// a real redis-server too (redisserver_test.go).
var redisKinds = []string{redislab.Embedded}

// lbKinds are the load balancers the replicas run behind: the lab's own Go
// proxy, and under the lab's own tests haproxy too (haproxy_test.go).
var lbKinds = []string{cluster.Embedded}

// Bounds of a test's waits: generous, since they are not delays.
const (
	requestWait = 5 * time.Second  // one request, or one websocket handshake
	eventWait   = 10 * time.Second // one event, or a close frame
	settleWait  = 10 * time.Second // a count to reach /stats, a replica to resubscribe
	poll        = time.Millisecond // how often a wait looks again
)

// factory starts replicas on rs, each with a client of its own, which the
// test's cleanup closes after the replica.
func factory(rs *redislab.Server) labtest.Factory {
	return func(t testing.TB) labtest.Server {
		r := newReplica(t, rs)
		return labtest.Server{Handler: r, Shutdown: r.Shutdown}
	}
}

func newReplica(t testing.TB, rs *redislab.Server) *Replica {
	rdb := redis.NewClient(redislab.Options(rs.Addr))
	t.Cleanup(func() { rdb.Close() })
	r, err := NewReplica(t.Context(), rdb, notifyapi.Options{})
	require.NoError(t, err)
	t.Cleanup(r.Close)
	return r
}

// TestNotifier runs the contract's scenarios, each on a fresh Redis: on
// one server, and on three replicas behind a round-robin proxy, where a
// subscriber and the changes it should see, and each /stats, reach
// different replicas.
func TestNotifier(t *testing.T) {
	t.Run("one server", func(t *testing.T) {
		t.Parallel()
		labtest.RunAgainst(t, notifycheck.Subject.Scenarios, func(t *testing.T, needs scenario.Needs) *scenario.Target {
			rs := labtest.Redis(t, redislab.Embedded)
			return labtest.Loopback(t, factory(rs)(t), needs&scenario.HTTP2 != 0)
		})
	})
	for kind, lb := range labtest.Kinds(redisKinds, lbKinds) {
		t.Run("3 replicas on "+kind+labtest.Behind(lb), func(t *testing.T) {
			t.Parallel()
			labtest.RunAgainst(t, notifycheck.Subject.Scenarios, func(t *testing.T, _ scenario.Needs) *scenario.Target {
				return labtest.Replicas(t, 3, lb, factory(labtest.Redis(t, kind)))
			})
		})
	}
}

// replicaClients returns a client of each replica of tg, talking to it
// directly rather than through the proxy.
func replicaClients(t *testing.T, tg *scenario.Target) []*notifycheck.Client {
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	var cs []*notifycheck.Client
	for _, u := range tg.Replicas {
		cs = append(cs, notifycheck.NewClient(&scenario.Target{URL: u, Client: hc}, requestWait))
	}
	return cs
}

// subscribe connects a subscriber to c, and closes it when the test ends.
func subscribe(t *testing.T, c *notifycheck.Client) *notifycheck.Subscription {
	t.Helper()
	sub, err := c.Subscribe(t.Context())
	require.NoError(t, err)
	t.Cleanup(sub.Vanish)
	return sub
}

// awaitSubscribers waits until /stats, on c, counts n subscribers.
func awaitSubscribers(t *testing.T, c *notifycheck.Client, n int64) {
	t.Helper()
	s, ok, err := c.AwaitStats(t.Context(), settleWait, poll, func(s notifyapi.Stats) bool { return s.Subscribers == n })
	require.NoError(t, err)
	require.True(t, ok, "waited %v for %d subscribers; /stats is %+v", settleWait, n, s)
}

func TestAcrossReplicas(t *testing.T) {
	for kind, lb := range labtest.Kinds(redisKinds, lbKinds) {
		t.Run(kind+labtest.Behind(lb), func(t *testing.T) {
			t.Parallel()
			cs := replicaClients(t, labtest.Replicas(t, 3, lb, factory(labtest.Redis(t, kind))))

			t.Run("a change on replica 3 reaches a subscriber on replica 1", func(t *testing.T) {
				sub := subscribe(t, cs[0])
				awaitSubscribers(t, cs[2], 1)
				e, err := cs[2].Create(t.Context(), `{"name":"on 3"}`)
				require.NoError(t, err)
				got, err := sub.Next(eventWait)
				require.NoError(t, err)
				assert.Equal(t, e, got)
				sub.Leave()
				awaitSubscribers(t, cs[1], 0)
			})

			t.Run("changes on every replica reach subscribers on every replica once each, in seq order", func(t *testing.T) {
				s, err := cs[0].Stats(t.Context())
				require.NoError(t, err)
				first := s.Published + 1 // the seq of the first change here

				const perReplica, changes = 2, 60
				var subs []*notifycheck.Subscription
				for _, c := range cs {
					for range perReplica {
						subs = append(subs, subscribe(t, c))
					}
				}
				awaitSubscribers(t, cs[0], int64(len(subs)))

				// Each replica's publisher creates a resource and then
				// modifies it, by turns, all three at once.
				published := make([]notifyapi.Event, changes)
				var mu sync.Mutex // guards published
				var publishers sync.WaitGroup
				for i, c := range cs {
					publishers.Go(func() {
						var id int64
						for n := i; n < changes; n += len(cs) {
							var e notifyapi.Event
							var err error
							if id == 0 || n%2 == 0 {
								e, err = c.Create(t.Context(), fmt.Sprintf(`{"replica":%d,"change":%d}`, i+1, n))
							} else {
								e, err = c.Modify(t.Context(), id, fmt.Sprintf(`{"replica":%d,"change":%d}`, i+1, n))
							}
							if !assert.NoError(t, err) || !assert.True(t, e.Seq >= first && e.Seq < first+changes, "seq %d", e.Seq) {
								return
							}
							id = e.ID
							mu.Lock()
							assert.Zero(t, published[e.Seq-first].Seq, "seq %d given twice", e.Seq)
							published[e.Seq-first] = e
							mu.Unlock()
						}
					})
				}
				publishers.Wait()
				if t.Failed() {
					return
				}
				// One change more, after them all: the next event each
				// subscriber receives must be it, not a duplicate.
				last, err := cs[1].Create(t.Context(), `{"name":"last"}`)
				require.NoError(t, err)
				published = append(published, last)

				var receivers sync.WaitGroup
				for i, sub := range subs {
					receivers.Go(func() {
						for j, want := range published {
							got, err := sub.Next(eventWait)
							if !assert.NoError(t, err, "subscriber %d on replica %d, event %d", i, i/perReplica+1, j+1) ||
								!assert.Equal(t, want, got, "subscriber %d on replica %d, event %d", i, i/perReplica+1, j+1) {
								return
							}
						}
					})
				}
				receivers.Wait()
			})
		})
	}
}

// TestRedisGoesAway: with Redis stopped, every change, read of a resource
// and /stats is a 503, and every subscriber is told 1011, as is one that
// comes then; once Redis is back, each replica subscribes again, and a new
// subscriber on either receives the changes made on both.
func TestRedisGoesAway(t *testing.T) {
	for kind, lb := range labtest.Kinds(redisKinds, lbKinds) {
		t.Run(kind+labtest.Behind(lb), func(t *testing.T) {
			t.Parallel()
			rs := labtest.Redis(t, kind)
			var replicas []*Replica // in the order of tg.Replicas: Replicas calls the factory in turn
			tg := labtest.Replicas(t, 2, lb, func(t testing.TB) labtest.Server {
				r := newReplica(t, rs)
				replicas = append(replicas, r)
				return labtest.Server{Handler: r, Shutdown: r.Shutdown}
			})
			cs := replicaClients(t, tg)
			ctx := t.Context()
			subs := []*notifycheck.Subscription{subscribe(t, cs[0]), subscribe(t, cs[1])}
			awaitSubscribers(t, cs[0], 2)
			e, err := cs[0].Create(ctx, `{"name":"before"}`)
			require.NoError(t, err)
			for j, sub := range subs {
				awaitEvent(t, sub, e, fmt.Sprintf("subscriber on replica %d", j+1))
			}

			require.NoError(t, rs.Stop())
			for i, c := range cs {
				for _, req := range []struct{ method, path string }{{"POST", "/resources"}, {"PUT", "/resources/1"}, {"GET", "/resources/1"}, {"GET", "/stats"}} {
					ch, err := c.Change(ctx, req.method, req.path, `{}`)
					require.NoError(t, err)
					assert.Equal(t, http.StatusServiceUnavailable, ch.Status, "replica %d, %s %s: %q", i+1, req.method, req.path, ch.Body)
					assert.True(t, strings.HasPrefix(ch.Body, "notifier unavailable: Redis: "), "replica %d, %s %s: %q", i+1, req.method, req.path, ch.Body)
					assert.Equal(t, 1, strings.Count(ch.Body, "\n"), "one line: %q", ch.Body)
				}
			}
			for i, sub := range subs {
				_, err := sub.Next(eventWait)
				assert.True(t, websocket.IsCloseError(err, websocket.CloseInternalServerErr), "subscriber on replica %d: %v", i+1, err)
			}
			_, err = subscribe(t, cs[0]).Next(eventWait)
			assert.True(t, websocket.IsCloseError(err, websocket.CloseInternalServerErr), "a subscriber while Redis is away: %v", err)

			require.NoError(t, rs.Restart(ctx))
			subs = nil
			for i, r := range replicas {
				awaitLocal(t, r, func(f *Fanout) bool { return f.listening }, fmt.Sprintf("replica %d to subscribe to Redis again", i+1))
				subs = append(subs, subscribe(t, cs[i]))
				awaitLocal(t, r, func(f *Fanout) bool { return len(f.subscribers) == 1 }, fmt.Sprintf("replica %d to register its new subscriber", i+1))
			}
			for i, c := range cs {
				e, err := c.Create(ctx, fmt.Sprintf(`{"name":"after, on %d"}`, i+1))
				require.NoError(t, err)
				for j, sub := range subs {
					got, err := sub.Next(eventWait)
					require.NoError(t, err, "subscriber on replica %d", j+1)
					assert.Equal(t, e, got, "subscriber on replica %d", j+1)
				}
			}
			// The counts in Redis heal too, whatever it kept: each replica
			// writes its own count again.
			awaitSubscribers(t, cs[0], 2)
		})
	}
}

// awaitLocal polls r's own state, under its lock, until cond holds. After a
// restart /stats cannot tell: the embedded Redis keeps the counts it had.
func awaitLocal(t *testing.T, r *Replica, cond func(*Fanout) bool, what string) {
	t.Helper()
	ok, err := scenario.Await(t.Context(), settleWait, poll, func() (bool, error) {
		r.fanout.mu.Lock()
		defer r.fanout.mu.Unlock()
		return cond(r.fanout), nil
	})
	require.NoError(t, err)
	require.True(t, ok, "waited %v for %s", settleWait, what)
}

// awaitEvent reads sub's events, whose seqs must follow each other, until
// want.
func awaitEvent(t *testing.T, sub *notifycheck.Subscription, want notifyapi.Event, who string) {
	t.Helper()
	for last := int64(0); ; {
		got, err := sub.Next(eventWait)
		require.NoError(t, err, who)
		require.True(t, last == 0 || got.Seq == last+1, "%s: seq %d after %d", who, got.Seq, last)
		require.LessOrEqual(t, got.Seq, want.Seq, "%s: waiting for %+v", who, want)
		if got.Seq == want.Seq {
			require.Equal(t, want, got, who)
			return
		}
		last = got.Seq
	}
}

// TestBinaryNeedsRedis: the command, with no Redis where -redis says,
// exits 1 with a one-line error that says what to do.
func TestBinaryNeedsRedis(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	nobody := ln.Addr().String() // closed at once: a port that refuses
	ln.Close()

	code, out := labtest.RunMain(t, "-addr", "127.0.0.1:0", "-redis", nobody)
	assert.Equal(t, 1, code, "%s", out)
	assert.Equal(t, 1, strings.Count(out, "\n"), "one line: %q", out)
	assert.Contains(t, out, "notifier: cannot reach Redis at "+nobody)
}
