package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
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

	"concurrencylab/internal/cluster"
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
// waiter never answered, a client never closed.
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

// lbKinds are the load balancers the replicas run behind: the lab's own Go
// proxy, and under the lab's own tests haproxy too (haproxy_test.go).
var lbKinds = []string{cluster.Embedded}

// Bounds of the tests' waits; each is far beyond what a pass needs.
const (
	wait     = 10 * time.Second       // for /stats to show a step done, or an answer
	quickOut = 300 * time.Millisecond // the pair timeout of the tests of timeouts
)

// newMatchmaker returns a replica's matchmaker on rs, its client closed
// when the test ends.
func newMatchmaker(t testing.TB, rs *redislab.Server) *Matchmaker {
	t.Helper()
	rdb := redis.NewClient(Options(rs.Addr))
	t.Cleanup(func() { rdb.Close() })
	return NewMatchmaker(rdb)
}

// replica is the factory of servers sharing rs, each a replica with a
// client and a matchmaker of its own.
func replica(rs *redislab.Server, pairTimeout time.Duration) labtest.Factory {
	return func(t testing.TB) labtest.Server {
		h := matchapi.NewHandler(newMatchmaker(t, rs), pairTimeout)
		return labtest.Server{Handler: h, Shutdown: h.Shutdown}
	}
}

// TestMatchmaker runs the suite against three replicas sharing one Redis;
// the lab's own tests run it against one server too (oneserver_test.go).
func TestMatchmaker(t *testing.T) {
	for kind, lb := range labtest.Kinds(redisKinds, lbKinds) {
		t.Run("3 replicas on "+kind+labtest.Behind(lb), func(t *testing.T) {
			labtest.RunAgainst(t, matchcheck.Subject.Scenarios, func(t *testing.T, _ scenario.Needs) *scenario.Target {
				return labtest.Replicas(t, 3, lb, replica(labtest.Redis(t, kind), matchapi.DefaultPairTimeout))
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
	for kind, lb := range labtest.Kinds(redisKinds, lbKinds) {
		t.Run(kind+labtest.Behind(lb), func(t *testing.T) {
			t.Parallel()
			tg := labtest.Replicas(t, 3, lb, replica(labtest.Redis(t, kind), matchapi.DefaultPairTimeout))
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
	for kind, lb := range labtest.Kinds(redisKinds, lbKinds) {
		t.Run(kind+labtest.Behind(lb), func(t *testing.T) {
			t.Parallel()
			tg := labtest.Replicas(t, 3, lb, replica(labtest.Redis(t, kind), quickOut))
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
// so that it does not read its mailbox before it leaves.
func TestPairedAsItsContextEnds(t *testing.T) {
	t.Parallel() // light, unlike TestMatchmaker, which runs alone first
	m := newMatchmaker(t, labtest.Redis(t, redislab.Embedded))
	ctx := t.Context()

	w := queueDirectly(t, m, "waiter")
	peer, err := m.Join(ctx, "peer")
	require.NoError(t, err)
	assert.Equal(t, matchapi.Match{Peer: "waiter", PairID: "1"}, peer)

	ended, cancel := context.WithCancel(ctx)
	cancel()
	match, err := m.leave(ended, w)
	require.NoError(t, err, "the waiter was taken, and must get its match")
	assert.Equal(t, matchapi.Match{Peer: "peer", PairID: "1"}, match)
	match, err = m.leave(ended, w)
	require.NoError(t, err, "leave, run again as if its reply had been lost, finds the match again")
	assert.Equal(t, matchapi.Match{Peer: "peer", PairID: "1"}, match)
	s, err := m.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, matchapi.Stats{Requests: 2, Paired: 1}, s)

	// Another that leaves before a peer comes is counted, by why it left.
	late := queueDirectly(t, m, "late")
	_, err = m.wait(ended, late)
	assert.ErrorIs(t, err, context.Canceled)
	s, err = m.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, matchapi.Stats{Requests: 3, Paired: 1, Canceled: 1}, s)
}

// queueDirectly runs the join script for a client id alone, as Join does,
// requires that it was queued, and returns its waiter, which nobody waits
// for: it reads its mailbox only if the test calls wait.
func queueDirectly(t *testing.T, m *Matchmaker, id string) *waiter {
	t.Helper()
	w := &waiter{token: rand.Text(), id: id}
	_, paired, err := m.dequeueOrEnqueue(w)
	require.NoError(t, err)
	require.False(t, paired, "%s was paired", id)
	return w
}

// A queued client whose lease has run out (its replica died, and nobody
// renews it) is swept out by the next join, counted as timed out, never
// handed out.
func TestExpiredWaiterIsSweptOut(t *testing.T) {
	t.Parallel() // light, unlike TestMatchmaker, which runs alone first
	rs := labtest.Redis(t, redislab.Embedded)
	m := newMatchmaker(t, rs)
	ctx := t.Context()

	ghost := queueDirectly(t, m, "ghost")
	runOutLease(t, m, ghost)
	queueDirectly(t, m, "next") // not paired with the ghost
	s, err := m.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, matchapi.Stats{Requests: 2, TimedOut: 1, Waiting: 1}, s)

	ended, cancel := context.WithTimeout(ctx, 0)
	defer cancel()
	_, err = m.wait(ended, ghost)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the ghost, if it is still there, finds it was swept")
	s, err = m.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, matchapi.Stats{Requests: 2, TimedOut: 1, Waiting: 1}, s, "counted once")
}

// runOutLease makes w's lease run out now, as it does leaseTTL after its
// Join last renewed it.
func runOutLease(t *testing.T, m *Matchmaker, w *waiter) {
	t.Helper()
	ctx := t.Context()
	require.NoError(t, m.rdb.PExpire(ctx, waiterKey(w.token), time.Millisecond).Err())
	gone, err := scenario.Await(ctx, wait, time.Millisecond, func() (bool, error) {
		n, err := m.rdb.Exists(ctx, waiterKey(w.token)).Result()
		return n == 0, err
	})
	require.NoError(t, err)
	require.True(t, gone, "the lease did not run out")
}

// A waiter's lease runs leaseTTL from its last renewal, and once a peer has
// taken it there is none to renew.
func TestWaiterRenewsItsLease(t *testing.T) {
	t.Parallel() // light, unlike TestMatchmaker, which runs alone first
	m := newMatchmaker(t, labtest.Redis(t, redislab.Embedded))
	ctx := t.Context()

	w := queueDirectly(t, m, "waiter")
	require.NoError(t, m.rdb.PExpire(ctx, waiterKey(w.token), time.Second).Err()) // as if a while ago
	assert.True(t, m.renew(w))
	left, err := m.rdb.PTTL(ctx, waiterKey(w.token)).Result()
	require.NoError(t, err)
	assert.Greater(t, left, leaseTTL/2, "renewed for leaseTTL")

	_, err = m.Join(ctx, "peer")
	require.NoError(t, err)
	assert.False(t, m.renew(w), "taken: no lease to renew")
	match, err := m.wait(ctx, w)
	require.NoError(t, err)
	assert.Equal(t, "peer", match.Peer)
}

// A join whose reply is lost (Redis went away after it ran the script, or
// before) is never answered with a 503 while a peer can get it in a 200:
// the client finds out what the script did. This is the fault that made
// TestRedisDownIs503 flaky, injected every time.
func TestJoinReplyLost(t *testing.T) {
	t.Parallel() // light, unlike TestMatchmaker, which runs alone first
	t.Run("queued", func(t *testing.T) {
		t.Parallel()
		rs := labtest.Redis(t, redislab.Embedded)
		m1, m2 := newMatchmaker(t, rs), newMatchmaker(t, rs)
		loseNextJoinReply(m1, true)
		ctx := t.Context()

		lostAnswer := joinAsync(ctx, m1, "lost")
		require.NoError(t, awaitWaiting(ctx, m2, 1))
		peer := answerOf(ctx, m2, "peer")
		lost := <-lostAnswer
		require.NoError(t, matchcheck.CheckPairs([]matchcheck.Joined{lost, peer}))
		assert.True(t, lost.Paired() && peer.Paired(), "lost: %s; peer: %s", lost.Outcome(), peer.Outcome())
		assertOnlyStatsLeft(t, m2, matchapi.Stats{Requests: 2, Paired: 1})
	})
	t.Run("paired", func(t *testing.T) {
		t.Parallel()
		rs := labtest.Redis(t, redislab.Embedded)
		m1, m2 := newMatchmaker(t, rs), newMatchmaker(t, rs)
		loseNextJoinReply(m1, true)
		ctx := t.Context()

		waiterAnswer := joinAsync(ctx, m2, "waiter")
		require.NoError(t, awaitWaiting(ctx, m2, 1))
		lost := answerOf(ctx, m1, "lost") // it took the waiter: its copy of the match tells it so
		waiter := <-waiterAnswer
		require.NoError(t, matchcheck.CheckPairs([]matchcheck.Joined{lost, waiter}))
		assert.True(t, lost.Paired() && waiter.Paired(), "lost: %s; waiter: %s", lost.Outcome(), waiter.Outcome())
		assertOnlyStatsLeft(t, m2, matchapi.Stats{Requests: 2, Paired: 1})
	})
	t.Run("never ran", func(t *testing.T) {
		t.Parallel()
		rs := labtest.Redis(t, redislab.Embedded)
		m1, m2 := newMatchmaker(t, rs), newMatchmaker(t, rs)
		loseNextJoinReply(m1, false)
		ctx := t.Context()

		_, err := m1.Join(ctx, "lost")
		assert.ErrorIs(t, err, ErrLost, "neither queued nor paired: a 503")
		firstAnswer := joinAsync(ctx, m2, "first")
		require.NoError(t, awaitWaiting(ctx, m2, 1))
		second := answerOf(ctx, m2, "second")
		first := <-firstAnswer
		assert.Equal(t, "second", first.Peer, "first: %s", first.Outcome())
		assert.Equal(t, "first", second.Peer, "second: %s", second.Outcome())
		assertOnlyStatsLeft(t, m2, matchapi.Stats{Requests: 2, Paired: 1})
	})
}

// loseNextJoinReply makes the next join script that m sends fail as if
// the connection broke before its reply came: after it ran in Redis, or,
// if ran is false, before.
func loseNextJoinReply(m *Matchmaker, ran bool) {
	h := &loseJoinReply{ran: ran}
	h.armed.Store(true)
	m.rdb.AddHook(h)
}

type loseJoinReply struct {
	ran   bool
	armed atomic.Bool // until the one reply is lost
}

func (h *loseJoinReply) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *loseJoinReply) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h *loseJoinReply) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		args := cmd.Args()
		isJoin := len(args) > 1 && (args[1] == joinScript.Hash() || args[1] == joinLua)
		if !isJoin || !h.armed.Load() {
			return next(ctx, cmd)
		}
		if h.ran {
			if err := next(ctx, cmd); redis.HasErrorPrefix(err, "NOSCRIPT") {
				return err // it did not run: go-redis sends the script itself next
			}
		}
		h.armed.Store(false)
		err := io.ErrUnexpectedEOF // as a connection cut before the reply
		cmd.SetErr(err)
		return err
	}
}

// assertOnlyStatsLeft asserts that m's Redis holds the counts want, and
// nothing else: no client queued, no mailbox, no lease.
func assertOnlyStatsLeft(t *testing.T, m *Matchmaker, want matchapi.Stats) {
	t.Helper()
	s, err := m.Stats(t.Context())
	require.NoError(t, err)
	assert.Equal(t, want, s)
	keys, err := m.rdb.Keys(t.Context(), keyPrefix+"*").Result()
	require.NoError(t, err)
	assert.Equal(t, []string{statsKey}, keys)
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
	// One balancer after the other: each is 200 clients at once.
	for _, lb := range lbKinds {
		t.Run(lb, func(t *testing.T) { loadAcrossReplicas(t, lb) })
	}
}

func loadAcrossReplicas(t *testing.T, lb string) {
	tg := labtest.Replicas(t, 3, lb, replica(labtest.Redis(t, redislab.Embedded), matchapi.DefaultPairTimeout))
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
	tg := labtest.Replicas(b, 3, cluster.Embedded, replica(labtest.Redis(b, redislab.Embedded), matchapi.DefaultPairTimeout))
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

// BenchmarkJoinScript measures one join script, the one step every client
// takes, on each kind of Redis (the embedded one, and with -tags lab a real
// redis-server): half of them queue, half pair. The embedded Redis builds a
// Lua interpreter for every script it runs.
func BenchmarkJoinScript(b *testing.B) {
	for _, kind := range redisKinds {
		b.Run(kind, func(b *testing.B) {
			m := newMatchmaker(b, labtest.Redis(b, kind))
			for b.Loop() {
				if _, _, err := m.dequeueOrEnqueue(&waiter{token: rand.Text(), id: "client"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// After the server has closed its Redis client, as it does when it has shut
// down, a Join is a 503 at once.
func TestJoinAfterCloseIs503(t *testing.T) {
	t.Parallel() // light, unlike TestMatchmaker, which runs alone first
	rdb := redis.NewClient(Options(labtest.Redis(t, redislab.Embedded).Addr))
	m := NewMatchmaker(rdb)
	require.NoError(t, rdb.Close())
	_, err := m.Join(t.Context(), "late")
	assert.ErrorIs(t, err, redis.ErrClosed)
	rec := httptest.NewRecorder()
	matchapi.NewHandler(m, time.Minute).ServeHTTP(rec, httptest.NewRequest("GET", "/?id=late", nil))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
}
