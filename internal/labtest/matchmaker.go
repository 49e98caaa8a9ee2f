package labtest

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"concurrencylab/internal/matchapi"
)

// NewMatchHandler builds a fresh server of one matchmaker version that gives
// each client pairTimeout to find a peer. It registers on t whatever must be
// stopped when the test ends.
type NewMatchHandler func(t *testing.T, pairTimeout time.Duration) http.Handler

// The load of ConcurrentClientsAllPair: matchClients clients, at most
// matchConcurrency of them at once, each starting as another finishes (so
// the last ones always have each other: with a fixed share per worker, as
// hey does it, the last worker can be left with no one to pair with).
// The load is enough for the naive version's check-then-act to go wrong on
// nine runs in ten or more, and its expected-failure child runs it up to ten
// times. The race detector slows every request several times over, so under
// -race the load is a quarter of that.
var matchClients, matchConcurrency = matchLoad()

func matchLoad() (clients, concurrency int) {
	if RaceEnabled {
		return 1000, 100
	}
	return 4000, 200
}

// loadProcs is GOMAXPROCS during ConcurrentClientsAllPair: more Ps than
// this machine may have cores, so that the OS pauses server threads
// anywhere, mid-operation, as it does on a busy server. The seed's bug needs
// just such a pause between Len() and Dequeue().
const loadProcs = 8

// loopbackPairTimeout is the pair timeout of the scenarios on loopback,
// where every client should be paired long before it: a broken version
// fails the test rather than hanging it.
const loopbackPairTimeout = 10 * time.Second

// wrongPairMarker starts the errors the suite reports when the pairs are
// wrong (one member paired with a client that had left, pairs that do not
// match up, a peer id that is no client), so that ExpectFailure can
// recognize them as WrongPair.
const wrongPairMarker = "wrong pair"

// unpairedMarker starts the error the suite reports when clients that all
// came while others were coming were not all paired.
const unpairedMarker = "not paired"

// unbalancedMarker starts the error the suite reports when a snapshot of
// /stats does not account for every client exactly once.
const unbalancedMarker = "/stats does not balance"

// The scenarios of the matchmaker contract. Each runs against a fresh server.
var matchScenarios = []scenario[NewMatchHandler]{
	{"ConcurrentClientsAllPair", concurrentClientsAllPair},
	{"StatsBalanceUnderLoad", statsBalanceUnderLoad},
	{"GoneClientIsNeverHandedOut", goneClientIsNeverHandedOut},
	{"LoneClientTimesOut", loneClientTimesOut},
	{"PeerJustInTime", peerJustInTime},
	{"TimeoutAndPeerAtOnce", timeoutAndPeerAtOnce},
	{"ShutdownAnswersWaiters", shutdownAnswersWaiters},
	{"BadInputChangesNothing", badMatchInput},
}

// MatchmakerSuite runs the matchmaker contract (see matchapi.Handler)
// against servers that newHandler builds: pairs that are symmetric and
// unique under concurrent load, /stats that balances in every snapshot, a
// client that left never handed out, 408 at the pair timeout (on a fake
// clock), and bad input answered with a 4xx that changes nothing. After each
// scenario nobody is waiting and no goroutine is left behind.
func MatchmakerSuite(t *testing.T, newHandler NewMatchHandler) {
	BrokenMatchmakerSuite(t, newHandler, nil)
}

// BrokenMatchmakerSuite runs the suite against a version that is broken on
// purpose: each scenario named in breaks must fail, in a child process, in
// one of the ways listed for it (see ExpectFailure); the others must pass.
// In exercise mode every scenario must pass.
func BrokenMatchmakerSuite(t *testing.T, newHandler NewMatchHandler, breaks map[string][]Failure) {
	runScenarios(t, matchScenarios, newHandler, breaks)
}

// concurrentClientsAllPair: matchClients clients with distinct ids, many at
// once. Every one is paired, symmetrically, and /stats counts them all.
func concurrentClientsAllPair(t *testing.T, newHandler NewMatchHandler) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(loadProcs, runtime.NumCPU())))
	verifyNoLeaks(t)
	c := serveLoopback(t, newHandler(t, loopbackPairTimeout), false)

	results := joinAll(t, c, matchClients)
	requireAllPaired(t, results)
	checkPairs(t, results)
	assert.Equal(t, matchapi.Stats{Requests: int64(matchClients), Paired: int64(matchClients / 2)}, c.stats(t))
}

// statsBalanceUnderLoad: while clients come and go, every snapshot of /stats
// accounts for every client exactly once.
func statsBalanceUnderLoad(t *testing.T, newHandler NewMatchHandler) {
	verifyNoLeaks(t)
	c := serveLoopback(t, newHandler(t, loopbackPairTimeout), false)
	watch := watchBalance(c)
	results := joinAll(t, c, matchClients/4)
	watch.stop(t)
	requireAllPaired(t, results)
}

// joinAll sends n clients with distinct ids, at most matchConcurrency at
// once, each starting as another finishes, and returns their answers.
func joinAll(t *testing.T, c *matchClient, n int) []joined {
	results := make([]joined, n)
	slots := make(chan struct{}, matchConcurrency)
	var wg sync.WaitGroup
	for i := range results {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			results[i] = c.join(t.Context(), "client-"+strconv.Itoa(i))
		})
	}
	wg.Wait()
	return results
}

func requireAllPaired(t *testing.T, results []joined) {
	t.Helper()
	var unpaired []joined
	for _, r := range results {
		if r.err != nil || r.status != http.StatusOK {
			unpaired = append(unpaired, r)
		}
	}
	if len(unpaired) > 0 {
		t.Fatalf("%s: %d clients of %d, such as %s, which got %s",
			unpairedMarker, len(unpaired), len(results), unpaired[0].id, unpaired[0].outcome())
	}
}

// balanceWatch polls /stats in the background and keeps the first snapshot
// that does not balance.
type balanceWatch struct {
	cancel     context.CancelFunc
	done       chan struct{}
	snapshots  int
	unbalanced *matchapi.Stats
	err        error
}

func watchBalance(c *matchClient) *balanceWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &balanceWatch{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			s, err := c.getStats(ctx)
			if err != nil {
				if ctx.Err() == nil {
					w.err = err
				}
				return
			}
			w.snapshots++
			if !s.Balanced() {
				w.unbalanced = &s
				return
			}
		}
	}()
	return w
}

// stop ends the polling and asserts that every snapshot balanced.
func (w *balanceWatch) stop(t *testing.T) {
	t.Helper()
	w.cancel()
	<-w.done
	require.NoError(t, w.err, "GET /stats during the load")
	if w.unbalanced != nil {
		s := *w.unbalanced
		t.Errorf("%s during the load: requests %d != 2×paired %d + timed out %d + canceled %d + waiting %d",
			unbalancedMarker, s.Requests, s.Paired, s.TimedOut, s.Canceled, s.Waiting)
	}
	t.Logf("%d snapshots of /stats during the load", w.snapshots)
}

// goneClientIsNeverHandedOut, over HTTP/2 with TLS as in the seed: a client
// waits and then goes away. Once the server has counted it as canceled, the
// next two clients are paired with each other, never with it.
func goneClientIsNeverHandedOut(t *testing.T, newHandler NewMatchHandler) {
	verifyNoLeaks(t)
	c := serveLoopback(t, newHandler(t, loopbackPairTimeout), true)

	ctx, leave := context.WithCancel(t.Context())
	goneAnswer := c.joinAsync(ctx, "gone")
	c.awaitStats(t, "gone to wait", func(s matchapi.Stats) bool { return s.Waiting == 1 })
	leave()
	gone := <-goneAnswer
	require.ErrorIs(t, gone.err, context.Canceled)
	c.awaitStats(t, "the server to count gone as canceled", func(s matchapi.Stats) bool { return s.Canceled == 1 })

	firstAnswer := c.joinAsync(t.Context(), "first")
	c.awaitStats(t, "first to wait", func(s matchapi.Stats) bool { return s.Requests == 2 && s.Waiting == 1 })
	second := c.join(t.Context(), "second")
	first := <-firstAnswer

	checkPairs(t, []joined{gone, first, second})
	assertJoined(t, first, http.StatusOK, "second")
	assertJoined(t, second, http.StatusOK, "first")
	assert.Equal(t, matchapi.Stats{Requests: 3, Paired: 1, Canceled: 1}, c.stats(t))
}

// loneClientTimesOut, on a fake clock: a client alone gets 408 exactly at the
// pair timeout, and is never handed out afterwards.
func loneClientTimesOut(t *testing.T, newHandler NewMatchHandler) {
	synctest.Test(t, func(t *testing.T) {
		const pairTimeout = matchapi.DefaultPairTimeout
		c := serveInBubble(t, newHandler(t, pairTimeout))

		start := time.Now()
		alone := c.join(t.Context(), "alone")
		assertJoined(t, alone, http.StatusRequestTimeout, "")
		assert.Equal(t, "timeout waiting for peer\n", alone.body)
		assert.Equal(t, pairTimeout, time.Since(start), "the 408 came exactly at the pair timeout")
		assert.Equal(t, matchapi.Stats{Requests: 1, TimedOut: 1}, c.stats(t))

		firstAnswer := c.joinAsync(t.Context(), "first")
		synctest.Wait() // first is waiting
		second := c.join(t.Context(), "second")
		first := <-firstAnswer

		checkPairs(t, []joined{alone, first, second})
		assertJoined(t, first, http.StatusOK, "second")
		assertJoined(t, second, http.StatusOK, "first")
		assert.Equal(t, matchapi.Stats{Requests: 3, Paired: 1, TimedOut: 1}, c.stats(t))
	})
}

// peerJustInTime, on a fake clock: a peer that comes a millisecond before
// the pair timeout is in time.
func peerJustInTime(t *testing.T, newHandler NewMatchHandler) {
	synctest.Test(t, func(t *testing.T) {
		const pairTimeout = matchapi.DefaultPairTimeout
		c := serveInBubble(t, newHandler(t, pairTimeout))

		earlyAnswer := c.joinAsync(t.Context(), "early")
		time.Sleep(pairTimeout - time.Millisecond)
		late := c.join(t.Context(), "late")
		early := <-earlyAnswer

		checkPairs(t, []joined{early, late})
		assertJoined(t, early, http.StatusOK, "late")
		assertJoined(t, late, http.StatusOK, "early")
		assert.Equal(t, matchapi.Stats{Requests: 2, Paired: 1}, c.stats(t))
	})
}

// sameInstantRounds is how many times timeoutAndPeerAtOnce races a timeout
// against a peer: enough to see both outcomes.
const sameInstantRounds = 20

// timeoutAndPeerAtOnce, on a fake clock: a peer comes at the very instant
// the waiting client's pair timeout passes. Either may win, but the client
// gets exactly one outcome: paired with that peer (both 200), or 408 and the
// peer waits for the next client.
func timeoutAndPeerAtOnce(t *testing.T, newHandler NewMatchHandler) {
	synctest.Test(t, func(t *testing.T) {
		const pairTimeout = matchapi.DefaultPairTimeout
		c := serveInBubble(t, newHandler(t, pairTimeout))

		var results []joined
		paired, timedOut := 0, 0
		for round := range sameInstantRounds {
			waiterAnswer := c.joinAsync(t.Context(), fmt.Sprintf("waiter-%d", round))
			time.Sleep(pairTimeout)
			peerAnswer := c.joinAsync(t.Context(), fmt.Sprintf("peer-%d", round))
			synctest.Wait() // everything due at this instant has happened

			var waiter joined
			select {
			case waiter = <-waiterAnswer:
			default:
				t.Fatalf("round %d: the waiter has no answer at its pair timeout", round)
			}
			results = append(results, waiter)
			switch waiter.status {
			case http.StatusOK:
				paired++
				results = append(results, <-peerAnswer)
			case http.StatusRequestTimeout:
				timedOut++
				next := c.join(t.Context(), fmt.Sprintf("next-%d", round))
				results = append(results, <-peerAnswer, next)
			default:
				t.Fatalf("round %d: %s", round, waiter.outcome())
			}
		}
		t.Logf("at the same instant, the peer won %d times and the timeout %d", paired, timedOut)

		checkPairs(t, results)
		for _, r := range results {
			if r.status != http.StatusOK {
				assert.Equal(t, http.StatusRequestTimeout, r.status, "%s: %s", r.id, r.outcome())
			}
		}
		s := c.stats(t)
		assert.Equal(t, int64(sameInstantRounds+sameInstantRounds+timedOut), s.Requests, "requests")
		assert.Equal(t, int64(timedOut), s.TimedOut, "timed out")
		assert.Zero(t, s.Waiting, "waiting")
		assert.True(t, s.Balanced(), "/stats balances: %+v", s)
	})
}

// shutdownAnswersWaiters, on a fake clock: when the server begins to shut
// down (server.Config.OnShutdown calls the handler's Shutdown), a waiting
// client gets 503 at once instead of holding the shutdown up for the rest of
// its pair timeout, and so does any client that comes after.
func shutdownAnswersWaiters(t *testing.T, newHandler NewMatchHandler) {
	synctest.Test(t, func(t *testing.T) {
		h := newHandler(t, matchapi.DefaultPairTimeout)
		shutdown, ok := h.(interface{ Shutdown() })
		require.True(t, ok, "the handler has no Shutdown method to give server.Config.OnShutdown")
		c := serveInBubble(t, h)

		waiterAnswer := c.joinAsync(t.Context(), "waiter")
		synctest.Wait() // the waiter is waiting
		start := time.Now()
		shutdown.Shutdown()
		waiter := <-waiterAnswer
		assert.Zero(t, time.Since(start), "answered at once")
		assertJoined(t, waiter, http.StatusServiceUnavailable, "")
		assert.Equal(t, "server shutting down\n", waiter.body)
		assertNobodyWaits(t, c.stats(t))

		late := c.join(t.Context(), "late")
		assertJoined(t, late, http.StatusServiceUnavailable, "")
		checkPairs(t, []joined{waiter, late})
		assert.Equal(t, matchapi.Stats{Requests: 2, Canceled: 2}, c.stats(t))
	})
}

// leftQueuedMarker starts the error the suite reports when a client that
// has had its answer is still counted as waiting.
const leftQueuedMarker = "left in the queue"

// assertNobodyWaits asserts that stats, taken when every client has had its
// answer, shows nobody waiting.
func assertNobodyWaits(t *testing.T, s matchapi.Stats) {
	t.Helper()
	if s.Waiting != 0 {
		t.Errorf("%s: every client has had its answer, but /stats says %d waiting", leftQueuedMarker, s.Waiting)
	}
}

// badMatchInput: every bad request gets a one-line 4xx and changes nothing,
// and afterwards the server still pairs clients, one named by its address
// and one with the longest id allowed.
func badMatchInput(t *testing.T, newHandler NewMatchHandler) {
	verifyNoLeaks(t)
	c := serveLoopback(t, newHandler(t, loopbackPairTimeout), false)
	tooLong := strings.Repeat("x", matchapi.MaxIDLen+1)

	for _, tc := range []struct {
		method, target string
		status         int
	}{
		{"GET", "/?id=", http.StatusBadRequest},
		{"GET", "/?id=" + tooLong, http.StatusBadRequest},
		{"GET", "/?id=two%0Alines", http.StatusBadRequest},
		{"GET", "/?id=%FF%FE", http.StatusBadRequest}, // not UTF-8
		{"GET", "/?id=%00", http.StatusBadRequest},
		{"POST", "/", http.StatusMethodNotAllowed},
		{"PUT", "/?id=a", http.StatusMethodNotAllowed},
		{"DELETE", "/stats", http.StatusMethodNotAllowed},
		{"GET", "/pair", http.StatusNotFound},
	} {
		t.Run(tc.method+" "+shorten(tc.target), func(t *testing.T) {
			status, body, err := c.do(tc.method, tc.target)
			require.NoError(t, err)
			assert.Equal(t, tc.status, status, "status; body %q", body)
			assert.Regexp(t, `^[^\n]+\n$`, body, "a one-line message")
			assert.Equal(t, matchapi.Stats{}, c.stats(t), "nothing changed")
		})
	}

	longest := strings.Repeat("x", matchapi.MaxIDLen)
	namedAnswer := c.joinAsync(t.Context(), longest)
	c.awaitStats(t, "the first client to wait", func(s matchapi.Stats) bool { return s.Waiting == 1 })
	anonymous := c.join(t.Context(), "") // no ?id=: named by its address
	named := <-namedAnswer

	assertJoined(t, anonymous, http.StatusOK, longest)
	require.NoError(t, named.err)
	assert.Equal(t, http.StatusOK, named.status, "body %q", named.body)
	assert.Regexp(t, regexp.MustCompile(`^127\.0\.0\.1:\d+$`), named.peer, "a client without an id is named by its address")
	assert.Equal(t, named.pairID, anonymous.pairID, "pair id")
	assert.Equal(t, matchapi.Stats{Requests: 2, Paired: 1}, c.stats(t))
}

// verifyNoLeaks fails t if goroutines started during it are still running
// once everything it registered for cleanup has been stopped.
func verifyNoLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}
