package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"concurrencylab/internal/labtest"
	"concurrencylab/internal/matchapi"
	"concurrencylab/internal/matchcheck"
	"concurrencylab/internal/redislab"
	"concurrencylab/internal/scenario"
)

// runMainEnv, set in the environment of this test binary, makes it run
// main with its arguments instead of the tests: the command as it is
// built, without a build.
const runMainEnv = "MATCHMAKER_RUN_MAIN"

// TestMain fails the package if any test leaves a goroutine behind: a
// dispatcher never closed, a client never closed.
func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) != "" {
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(labtest.Exit))
}

// redisKinds are the Redis servers the suites run on: the embedded one,
// which needs nothing installed, and under the lab's own tests (-tags lab)
// a real redis-server too (redisserver_test.go).
var redisKinds = []string{redislab.Embedded}

// Bounds of the tests' waits; each is far beyond what a pass needs.
const (
	wait     = 10 * time.Second       // for /stats to show a step done, or an answer
	quickOut = 300 * time.Millisecond // the pair timeout of the tests of timeouts
)

// newMatchmaker returns a replica's matchmaker on rs, closed when the test
// ends.
func newMatchmaker(t testing.TB, rs *redislab.Server) *Matchmaker {
	t.Helper()
	rdb := redis.NewClient(redislab.Options(rs.Addr))
	m, err := New(t.Context(), rdb)
	if err != nil {
		rdb.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		m.Close()
		rdb.Close()
	})
	return m
}

// replica is the factory of servers sharing rs, each a replica with a
// client and a matchmaker of its own.
func replica(rs *redislab.Server, pairTimeout time.Duration) labtest.Factory {
	return func(t testing.TB) labtest.Server {
		h := matchapi.NewHandler(newMatchmaker(t, rs), pairTimeout)
		return labtest.Server{Handler: h, Shutdown: h.Shutdown}
	}
}

func TestMatchmaker(t *testing.T) {
	t.Run("one server", func(t *testing.T) {
		labtest.RunAgainst(t, matchcheck.Subject.Scenarios, func(t *testing.T, needs scenario.Needs) *scenario.Target {
			rs := labtest.Redis(t, redislab.Embedded)
			srv := replica(rs, matchapi.DefaultPairTimeout)(t)
			return labtest.Loopback(t, srv, needs&scenario.HTTP2 != 0)
		})
	})
	for _, kind := range redisKinds {
		t.Run("3 replicas on "+kind, func(t *testing.T) {
			labtest.RunAgainst(t, matchcheck.Subject.Scenarios, func(t *testing.T, _ scenario.Needs) *scenario.Target {
				return labtest.Replicas(t, 3, replica(labtest.Redis(t, kind), matchapi.DefaultPairTimeout))
			})
		})
	}
}

// replicaClients are clients of each replica behind tg, by its own URL.
func replicaClients(tg *scenario.Target) []*matchcheck.Client {
	var cs []*matchcheck.Client
	for _, u := range tg.Replicas {
		cs = append(cs, matchcheck.NewClient(&scenario.Target{URL: u, Client: tg.Client}, wait))
	}
	return cs
}

// Alice, sent to replica 1, and bob, to replica 2, are a pair, and
// /stats on replica 3 counts them.
func TestPairAcrossReplicas(t *testing.T) {
	t.Parallel() // light, unlike TestMatchmaker, which runs alone first
	for _, kind := range redisKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			tg := labtest.Replicas(t, 3, replica(labtest.Redis(t, kind), matchapi.DefaultPairTimeout))
			r := replicaClients(tg)
			ctx := t.Context()

			aliceAnswer := r[0].JoinAsync(ctx, "alice")
			_, err := r[1].AwaitStats(ctx, "alice to wait", wait, func(s matchapi.Stats) bool { return s.Waiting == 1 })
			require.NoError(t, err)
			bob := r[1].Join(ctx, "bob")
			alice := <-aliceAnswer

			require.True(t, alice.Paired(), "alice: %s", alice.Outcome())
			require.True(t, bob.Paired(), "bob: %s", bob.Outcome())
			assert.Equal(t, "bob", alice.Peer)
			assert.Equal(t, "alice", bob.Peer)
			assert.Equal(t, "1", alice.PairID)
			assert.Equal(t, alice.PairID, bob.PairID)
			s, err := r[2].Stats(ctx)
			require.NoError(t, err)
			assert.Equal(t, matchapi.Stats{Requests: 2, Paired: 1}, s)
		})
	}
}

// A client alone gets a 408 at the pair timeout, and /stats on another
// replica counts it; it is never handed out afterwards.
func TestLoneClientTimesOut(t *testing.T) {
	t.Parallel() // light, unlike TestMatchmaker, which runs alone first
	for _, kind := range redisKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			tg := labtest.Replicas(t, 3, replica(labtest.Redis(t, kind), quickOut))
			r := replicaClients(tg)
			ctx := t.Context()

			start := time.Now()
			alone := r[0].Join(ctx, "alone")
			waited := time.Since(start)
			require.NoError(t, alone.Err)
			assert.Equal(t, http.StatusRequestTimeout, alone.Status)
			assert.Equal(t, "timeout waiting for peer\n", alone.Body)
			assert.GreaterOrEqual(t, waited, quickOut, "the 408 came before the pair timeout")
			s, err := r[1].Stats(ctx)
			require.NoError(t, err)
			assert.Equal(t, matchapi.Stats{Requests: 1, TimedOut: 1}, s)

			firstAnswer := r[1].JoinAsync(ctx, "first")
			_, err = r[2].AwaitStats(ctx, "first to wait", wait, func(s matchapi.Stats) bool { return s.Waiting == 1 })
			require.NoError(t, err)
			second := r[2].Join(ctx, "second")
			first := <-firstAnswer
			require.NoError(t, matchcheck.CheckPairs([]matchcheck.Joined{alone, first, second}))
			assert.Equal(t, "second", first.Peer)
			assert.Equal(t, "first", second.Peer)
			s, err = r[0].Stats(ctx)
			require.NoError(t, err)
			assert.Equal(t, matchapi.Stats{Requests: 3, Paired: 1, TimedOut: 1}, s)
		})
	}
}

// A waiter taken by a peer just as its context ends takes the match, as
// it leaves: one outcome. The waiter is queued by the join script itself,
// so that it does not see its wake-up before it leaves.
func TestPairedAsItsContextEnds(t *testing.T) {
	t.Parallel() // light, unlike TestMatchmaker, which runs alone first
	m := newMatchmaker(t, labtest.Redis(t, redislab.Embedded))
	ctx := t.Context()

	w := m.newWaiter(ctx, "waiter")
	require.False(t, queueDirectly(t, m, w, "waiter"))
	peer, err := m.Join(ctx, "peer")
	require.NoError(t, err)
	assert.Equal(t, matchapi.Match{Peer: "waiter", PairID: "1"}, peer)

	ended, cancel := context.WithCancel(ctx)
	cancel()
	match, err := m.leave(ended, w)
	require.NoError(t, err, "the waiter was taken, and must get its match")
	assert.Equal(t, matchapi.Match{Peer: "peer", PairID: "1"}, match)
	s, err := m.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, matchapi.Stats{Requests: 2, Paired: 1}, s)

	// Another that leaves before a peer comes is counted, by why it left.
	late := m.newWaiter(ctx, "late")
	require.False(t, queueDirectly(t, m, late, "late"))
	_, err = m.leave(ended, late)
	assert.ErrorIs(t, err, context.Canceled)
	s, err = m.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, matchapi.Stats{Requests: 3, Paired: 1, Canceled: 1}, s)
}

// queueDirectly runs the join script for w alone, as Join does, and reports
// whether w was paired; w is not woken as Join's waiter would be.
func queueDirectly(t *testing.T, m *Matchmaker, w *waiter, id string) (paired bool) {
	t.Helper()
	j := m.joiner.join(w, id)
	require.NoError(t, j.err)
	return j.paired
}

// A queued client whose lease has run out (its replica died, say) is
// swept out by the next join, counted as timed out, never handed out.
func TestExpiredWaiterIsSweptOut(t *testing.T) {
	t.Parallel() // light, unlike TestMatchmaker, which runs alone first
	m := newMatchmaker(t, labtest.Redis(t, redislab.Embedded))
	ctx := t.Context()

	ghost := &waiter{token: m.replica + ":ghost"}
	ghost.entry = newEntry(time.Now().Add(-time.Second), ghost.token, "ghost")
	require.False(t, queueDirectly(t, m, ghost, "ghost"))
	next := m.newWaiter(ctx, "next")
	assert.False(t, queueDirectly(t, m, next, "next"), "paired with a client whose lease had run out")
	s, err := m.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, matchapi.Stats{Requests: 2, TimedOut: 1, Waiting: 1}, s)

	ended, cancel := context.WithTimeout(ctx, 0)
	defer cancel()
	_, err = m.leave(ended, ghost)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the ghost, if it is still there, finds it was swept")
	s, err = m.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, matchapi.Stats{Requests: 2, TimedOut: 1, Waiting: 1}, s, "counted once")
}

// A waiter on one replica leaves at the moment a peer on another comes:
// either may win, but each client has one outcome, and /stats balances.
func TestLeaveAndPeerAtOnce(t *testing.T) {
	t.Parallel() // light, unlike TestMatchmaker, which runs alone first
	const rounds = 20
	rs := labtest.Redis(t, redislab.Embedded)
	m1, m2 := newMatchmaker(t, rs), newMatchmaker(t, rs)
	ctx := t.Context()

	var results []matchcheck.Joined
	left := 0
	for round := range rounds {
		waiterCtx, leave := context.WithCancel(ctx)
		waiterAnswer := joinAsync(waiterCtx, m1, fmt.Sprintf("waiter-%d", round))
		require.NoError(t, awaitWaiting(ctx, m2, 1), "round %d", round)
		go leave()
		peerAnswer := joinAsync(ctx, m2, fmt.Sprintf("peer-%d", round))
		waiter := <-waiterAnswer
		results = append(results, waiter)
		if !waiter.Paired() {
			require.ErrorIs(t, waiter.Err, context.Canceled, "round %d", round)
			left++
			results = append(results, answerOf(ctx, m1, fmt.Sprintf("next-%d", round)))
		}
		results = append(results, <-peerAnswer)
		leave()
	}
	for _, r := range results {
		assert.True(t, r.Paired() || errors.Is(r.Err, context.Canceled), "%s: %s", r.ID, r.Outcome())
	}
	require.NoError(t, matchcheck.CheckPairs(results))
	s, err := m1.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, matchapi.Stats{Requests: int64(2*rounds + left), Paired: rounds, Canceled: int64(left)}, s)
	t.Logf("%d of %d waiters left before the peer took them", left, rounds)
}

// answerOf is m's answer to id, as a client over HTTP would see it.
func answerOf(ctx context.Context, m *Matchmaker, id string) matchcheck.Joined {
	match, err := m.Join(ctx, id)
	if err != nil {
		return matchcheck.Joined{ID: id, Err: err}
	}
	return matchcheck.Joined{ID: id, Status: http.StatusOK, Peer: match.Peer, PairID: match.PairID}
}

func joinAsync(ctx context.Context, m *Matchmaker, id string) <-chan matchcheck.Joined {
	answer := make(chan matchcheck.Joined, 1)
	go func() { answer <- answerOf(ctx, m, id) }()
	return answer
}

// awaitWaiting polls m's /stats until n clients wait.
func awaitWaiting(ctx context.Context, m *Matchmaker, n int64) error {
	ok, err := scenario.Await(ctx, wait, time.Millisecond, func() (bool, error) {
		s, err := m.Stats(ctx)
		return err == nil && s.Waiting == n, err
	})
	if err == nil && !ok {
		err = fmt.Errorf("%d clients did not come to wait within %v", n, wait)
	}
	return err
}

// While Redis is stopped, GET / and /stats are a 503, never a 200; once it
// is back, the service is too. A client that waited through the outage is
// paired if Redis kept the queue (the embedded one keeps its data), and is
// told the truth, a 503, if Redis came back empty (a real one, with no
// persistence).
func TestRedisDownIs503(t *testing.T) {
	t.Parallel() // light, unlike TestMatchmaker, which runs alone first
	for _, kind := range redisKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			rs := labtest.Redis(t, kind)
			tg := labtest.Loopback(t, replica(rs, matchapi.DefaultPairTimeout)(t), false)
			c := matchcheck.NewClient(tg, wait)
			ctx := t.Context()

			patientAnswer := c.JoinAsync(ctx, "patient")
			_, err := c.AwaitStats(ctx, "patient to wait", wait, func(s matchapi.Stats) bool { return s.Waiting == 1 })
			require.NoError(t, err)
			require.NoError(t, rs.Stop())

			during := c.Join(ctx, "during")
			require.NoError(t, during.Err)
			assert.Equal(t, http.StatusServiceUnavailable, during.Status, "GET / with Redis stopped: %s", during.Outcome())
			stats, err := tg.Get(ctx, "/stats", wait)
			require.NoError(t, err)
			assert.Equal(t, http.StatusServiceUnavailable, stats.Status, "GET /stats with Redis stopped: %q", stats.Body)

			require.NoError(t, rs.Restart(ctx))
			_, err = c.AwaitStats(ctx, "/stats to answer again", wait, func(matchapi.Stats) bool { return true })
			require.NoError(t, err)

			if kind == redislab.Embedded {
				late := c.Join(ctx, "late")
				patient := <-patientAnswer
				require.NoError(t, matchcheck.CheckPairs([]matchcheck.Joined{patient, during, late}))
				assert.Equal(t, "late", patient.Peer, "patient: %s", patient.Outcome())
				assert.Equal(t, "patient", late.Peer, "late: %s", late.Outcome())
				s, err := c.AwaitStats(ctx, "the client that came during the outage to be cleaned up", wait,
					func(s matchapi.Stats) bool { return s.Waiting == 0 })
				require.NoError(t, err)
				assert.Equal(t, matchapi.Stats{Requests: 2, Paired: 1}, s)
				return
			}
			patient := <-patientAnswer
			assert.Equal(t, http.StatusServiceUnavailable, patient.Status, "patient, whose place Redis lost: %s", patient.Outcome())
			firstAnswer := c.JoinAsync(ctx, "first")
			_, err = c.AwaitStats(ctx, "first to wait", wait, func(s matchapi.Stats) bool { return s.Waiting == 1 })
			require.NoError(t, err)
			second := c.Join(ctx, "second")
			first := <-firstAnswer
			require.NoError(t, matchcheck.CheckPairs([]matchcheck.Joined{patient, during, first, second}))
			assert.True(t, first.Paired() && second.Paired(), "first: %s; second: %s", first.Outcome(), second.Outcome())
			s, err := c.Stats(ctx)
			require.NoError(t, err)
			assert.Equal(t, matchapi.Stats{Requests: 2, Paired: 1}, s)
		})
	}
}

// A server with no Redis to reach exits 1 at once, with one line on stderr
// that says what to do. The command runs in a child: this test binary,
// which runs main instead of the tests (see TestMain).
func TestNoRedisExits1WithOneLine(t *testing.T) {
	t.Parallel() // light, unlike TestMatchmaker, which runs alone first
	noRedis := freeAddr(t)
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-redis", noRedis, "-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "GORACE=atexit_sleep_ms=0")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()

	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the server ran: %s", stderr.String())
	assert.Equal(t, 1, exit.ExitCode())
	assert.Empty(t, stdout.String())
	line, rest, _ := strings.Cut(stderr.String(), "\n")
	assert.Empty(t, rest, "more than one line on stderr")
	assert.Contains(t, line, "cannot reach Redis at "+noRedis)
	assert.Contains(t, line, "-redis host:port", "says what to do")

	_, err = redislab.Dial(t.Context(), redislab.Options(noRedis))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "\n")
}

// freeAddr is a loopback address where nothing listens.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// loadClients is how many clients TestLoadAcrossReplicas sends at once.
const loadClients = 200

// loadClients clients at once, through three replicas, are all paired,
// symmetrically, and /stats balances.
func TestLoadAcrossReplicas(t *testing.T) {
	t.Parallel() // light, unlike TestMatchmaker, which runs alone first
	tg := labtest.Replicas(t, 3, replica(labtest.Redis(t, redislab.Embedded), matchapi.DefaultPairTimeout))
	c := matchcheck.NewClient(tg, wait)
	c.JoinWait = wait
	results := make([]matchcheck.Joined, loadClients)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i] = c.Join(t.Context(), fmt.Sprintf("client-%d", i)) })
	}
	wg.Wait()
	for _, r := range results {
		require.True(t, r.Paired(), "%s: %s", r.ID, r.Outcome())
	}
	require.NoError(t, matchcheck.CheckPairs(results))
	s, err := c.Stats(t.Context())
	require.NoError(t, err)
	assert.Equal(t, matchapi.Stats{Requests: loadClients, Paired: loadClients / 2}, s)
}

// BenchmarkPairsAcrossReplicas measures pairs per second through three
// replicas on the embedded Redis, over HTTP through the proxy, with 64
// clients at once, each joining again as soon as it is paired.
func BenchmarkPairsAcrossReplicas(b *testing.B) {
	const clients = 64
	tg := labtest.Replicas(b, 3, replica(labtest.Redis(b, redislab.Embedded), matchapi.DefaultPairTimeout))
	c := matchcheck.NewClient(tg, wait)
	var joinsLeft atomic.Int64 // two per pair; a client takes one before each join
	joinsLeft.Store(2 * int64(b.N))
	b.ResetTimer()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			for n := 0; joinsLeft.Add(-1) >= 0; n++ {
				if j := c.Join(b.Context(), fmt.Sprintf("client-%d-%d", i, n)); !j.Paired() {
					b.Error(j.Outcome())
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
}

// After Close, a Join is ErrClosed, which the handler answers with a 503;
// a second Close is harmless.
func TestJoinAfterCloseIs503(t *testing.T) {
	t.Parallel() // light, unlike TestMatchmaker, which runs alone first
	m := newMatchmaker(t, labtest.Redis(t, redislab.Embedded))
	m.Close()
	m.Close()
	_, err := m.Join(t.Context(), "late")
	assert.ErrorIs(t, err, ErrClosed)
	rec := httptest.NewRecorder()
	matchapi.NewHandler(m, time.Minute).ServeHTTP(rec, httptest.NewRequest("GET", "/?id=late", nil))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
}
