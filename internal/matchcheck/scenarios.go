// Package matchcheck checks a server against the matchmaker's contract
// (internal/matchapi), by its answers alone: a Client that speaks the
// contract, the Subject's scenarios that the versions' tests run, its drive
// under the harness's load, its battery of bad input, and the ways a broken
// matchmaker fails. The lessons never import it; their tests do.
package matchcheck

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"concurrencylab/internal/matchapi"
	"concurrencylab/internal/scenario"
)

// Subject is the matchmaker, as the test kit and the harness know it: its
// suite, its drive under load and its bad input. Every version is served
// with matchapi.DefaultPairTimeout; the scenarios on loopback bound each client's
// wait themselves (loopbackPairTimeout).
var Subject = scenario.Subject{
	Name:      "matchmaker",
	Contract:  "GET /?id=ID (wait for a peer: 200 its id and a Pair-Id header, 408, 503), GET /stats",
	Scenarios: scenarios,
	Drive:     drive,
	Battery:   badInput,
}

// The scenarios of the matchmaker contract: pairs that are symmetric and
// unique under concurrent load, /stats that balances in every snapshot, a
// client that left never handed out, 408 at the pair timeout and 503 at
// shutdown (on a fake clock), and bad input answered with a 4xx that
// changes nothing. Each runs against a fresh server.
var scenarios = []scenario.Scenario{
	{Name: "ConcurrentClientsAllPair", Run: concurrentClientsAllPair},
	{Name: "StatsBalanceUnderLoad", Run: statsBalanceUnderLoad},
	{Name: "GoneClientIsNeverHandedOut", Needs: scenario.HTTP2, Run: goneClientIsNeverHandedOut},
	{Name: "LoneClientTimesOut", Needs: scenario.FakeClock, Run: loneClientTimesOut},
	{Name: "PeerJustInTime", Needs: scenario.FakeClock, Run: peerJustInTime},
	{Name: "TimeoutAndPeerAtOnce", Needs: scenario.FakeClock, Run: timeoutAndPeerAtOnce},
	{Name: "ShutdownAnswersWaiters", Needs: scenario.FakeClock | scenario.Shutdown, Run: shutdownAnswersWaiters},
	{Name: "BadInputChangesNothing", Run: badInputChangesNothing},
}

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
	if scenario.RaceEnabled {
		return 1000, 100
	}
	return 4000, 200
}

// loadProcs is GOMAXPROCS during ConcurrentClientsAllPair: more Ps than
// this machine may have cores, so that the OS pauses server threads
// anywhere, mid-operation, as it does on a busy server. The seed's bug needs
// just such a pause between Len() and Dequeue().
const loadProcs = 8

// loopbackPairTimeout bounds each client's wait in the scenarios on
// loopback, where every client should be paired long before it: a broken
// version fails the test rather than hanging it. A client with no peer by
// then gives up, and is not paired.
const loopbackPairTimeout = 10 * time.Second

// awaitWait bounds each wait of a loopback scenario for /stats to show a
// step done.
const awaitWait = 10 * time.Second

// sameInstantRounds is how many times timeoutAndPeerAtOnce races a timeout
// against a peer: enough to see both outcomes.
const sameInstantRounds = 20

// loopbackClient is a client for a scenario on loopback: each join gives up
// at loopbackPairTimeout.
func loopbackClient(tg *scenario.Target) *Client {
	c := NewClient(tg, scenario.AnswerWait)
	c.JoinWait = loopbackPairTimeout
	return c
}

// findings gathers what a scenario found wrong, in the order it checks.
// Most checks stop the scenario; a few go on after a deviation (note),
// because a later check is the one that names the bug: the naive version's
// /stats is wrong a step before it hands out the client that left, the
// wrong pair its seed is known by. The scenario returns every deviation
// noted and the one it stopped at, joined, first first.
type findings []error

// note records err, if any, and lets the scenario go on.
func (f *findings) note(err error) {
	if err != nil {
		*f = append(*f, err)
	}
}

// stop returns what was noted and err, which ends the scenario.
func (f findings) stop(err error) error { return errors.Join(append(f, err)...) }

// err returns what was noted, or nil.
func (f findings) err() error { return errors.Join(f...) }

// readStats reads /stats and notes whether it is want; a read that fails
// ends the scenario (a non-nil return).
func (f *findings) readStats(ctx context.Context, c *Client, want matchapi.Stats) error {
	s, err := c.Stats(ctx)
	if err != nil {
		return f.stop(err)
	}
	if s != want {
		f.note(fmt.Errorf("/stats is %+v, want %+v", s, want))
	}
	return nil
}

// expectJoined checks one client's answer: status, and the peer if 200.
func expectJoined(j Joined, status int, peer string) error {
	switch {
	case j.Err != nil:
		return fmt.Errorf("%s: no answer: %w", j.ID, j.Err)
	case j.Status != status:
		return fmt.Errorf("%s: %d %q, want %d", j.ID, j.Status, j.Body, status)
	case status == http.StatusOK && j.Peer != peer:
		return fmt.Errorf("%s: peer %q, want %q", j.ID, j.Peer, peer)
	}
	return nil
}

// expectBody checks one client's answer's body.
func expectBody(j Joined, body string) error {
	if j.Err == nil && j.Body != body {
		return fmt.Errorf("%s: body %q, want %q", j.ID, j.Body, body)
	}
	return nil
}

// concurrentClientsAllPair: matchClients clients with distinct ids, many at
// once. Every one is paired, symmetrically, and /stats counts them all.
func concurrentClientsAllPair(ctx context.Context, tg *scenario.Target) error {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(loadProcs, runtime.NumCPU())))
	c := loopbackClient(tg)

	results := joinAll(ctx, c, matchClients)
	if err := allPaired(results); err != nil {
		return err
	}
	var f findings
	f.note(CheckPairs(results))
	if err := f.readStats(ctx, c, matchapi.Stats{Requests: int64(matchClients), Paired: int64(matchClients / 2)}); err != nil {
		return err
	}
	return f.err()
}

// statsBalanceUnderLoad: while clients come and go, every snapshot of /stats
// accounts for every client exactly once.
func statsBalanceUnderLoad(ctx context.Context, tg *scenario.Target) error {
	c := loopbackClient(tg)
	watch := watchBalance(ctx, c)
	results := joinAll(ctx, c, matchClients/4)
	unbalanced, err := watch.stop()
	if err != nil {
		return fmt.Errorf("GET /stats during the load: %w", err)
	}
	var f findings
	if unbalanced != nil {
		f.note(CheckBalanced(*unbalanced, "during the load"))
	}
	if err := allPaired(results); err != nil {
		return f.stop(err)
	}
	return f.err()
}

// joinAll sends n clients with distinct ids, at most matchConcurrency at
// once, each starting as another finishes, and returns their answers.
func joinAll(ctx context.Context, c *Client, n int) []Joined {
	results := make([]Joined, n)
	slots := make(chan struct{}, matchConcurrency)
	var wg sync.WaitGroup
	for i := range results {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			results[i] = c.Join(ctx, "client-"+strconv.Itoa(i))
		})
	}
	wg.Wait()
	return results
}

// allPaired is an Unpaired error unless every client was paired.
func allPaired(results []Joined) error {
	var unpaired []Joined
	for _, r := range results {
		if !r.Paired() {
			unpaired = append(unpaired, r)
		}
	}
	if len(unpaired) > 0 {
		return Unpaired.Errorf("%d clients of %d, such as %s, which got %s",
			len(unpaired), len(results), unpaired[0].ID, unpaired[0].Outcome())
	}
	return nil
}

// balanceWatch reads /stats in the background and keeps the first snapshot
// that does not balance.
type balanceWatch struct {
	cancel     context.CancelFunc
	done       chan struct{}
	unbalanced *matchapi.Stats
	err        error
}

func watchBalance(ctx context.Context, c *Client) *balanceWatch {
	ctx, cancel := context.WithCancel(ctx)
	w := &balanceWatch{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			s, err := c.Stats(ctx)
			if err != nil {
				if ctx.Err() == nil {
					w.err = err
				}
				return
			}
			if !s.Balanced() {
				w.unbalanced = &s
				return
			}
		}
	}()
	return w
}

// stop ends the reading and returns the first snapshot that did not
// balance, if any, or the read that failed.
func (w *balanceWatch) stop() (*matchapi.Stats, error) {
	w.cancel()
	<-w.done
	return w.unbalanced, w.err
}

// goneClientIsNeverHandedOut, over HTTP/2 with TLS as in the seed: a client
// waits and then goes away. Once the server has counted it as canceled, the
// next two clients are paired with each other, never with it.
func goneClientIsNeverHandedOut(ctx context.Context, tg *scenario.Target) error {
	ctx, cancel := context.WithCancel(ctx) // ends the joins still waiting if a step fails
	defer cancel()
	c := loopbackClient(tg)

	goneCtx, leave := context.WithCancel(ctx)
	defer leave()
	goneAnswer := c.JoinAsync(goneCtx, "gone")
	if _, err := c.AwaitStats(ctx, "gone to wait", awaitWait, func(s matchapi.Stats) bool { return s.Waiting == 1 }); err != nil {
		return err
	}
	leave()
	gone := <-goneAnswer
	if !errors.Is(gone.Err, context.Canceled) {
		return fmt.Errorf("gone left while it waited, yet it got %s", gone.Outcome())
	}
	if _, err := c.AwaitStats(ctx, "the server to count gone as canceled", awaitWait,
		func(s matchapi.Stats) bool { return s.Canceled == 1 }); err != nil {
		return err
	}

	firstAnswer := c.JoinAsync(ctx, "first")
	s, err := c.AwaitStats(ctx, "first to wait", awaitWait,
		func(s matchapi.Stats) bool { return s.Requests == 2 && (s.Waiting == 1 || s.Paired == 1) })
	if err != nil {
		return err
	}
	if s.Paired == 1 { // nobody else has come: first was handed the client that had left
		return WrongPair.Errorf("first was paired at once, and the only other client, gone, had left: /stats is %+v", s)
	}
	second := c.Join(ctx, "second")
	first := <-firstAnswer

	var f findings
	f.note(CheckPairs([]Joined{gone, first, second}))
	f.note(expectJoined(first, http.StatusOK, "second"))
	f.note(expectJoined(second, http.StatusOK, "first"))
	if err := f.readStats(ctx, c, matchapi.Stats{Requests: 3, Paired: 1, Canceled: 1}); err != nil {
		return err
	}
	return f.err()
}

// loneClientTimesOut, on a fake clock: a client alone gets 408 exactly at the
// pair timeout, and is never handed out afterwards.
func loneClientTimesOut(ctx context.Context, tg *scenario.Target) error {
	const pairTimeout = matchapi.DefaultPairTimeout
	c := NewClient(tg, scenario.AnswerWait)

	start := time.Now()
	alone := c.Join(ctx, "alone")
	var f findings
	f.note(expectJoined(alone, http.StatusRequestTimeout, ""))
	f.note(expectBody(alone, "timeout waiting for peer\n"))
	if waited := time.Since(start); waited != pairTimeout {
		f.note(fmt.Errorf("the 408 came after %v, not exactly at the pair timeout, %v", waited, pairTimeout))
	}
	if err := f.readStats(ctx, c, matchapi.Stats{Requests: 1, TimedOut: 1}); err != nil {
		return err
	}

	firstAnswer := c.JoinAsync(ctx, "first")
	tg.Settle() // first is waiting
	second := c.Join(ctx, "second")
	first := <-firstAnswer

	f.note(CheckPairs([]Joined{alone, first, second}))
	f.note(expectJoined(first, http.StatusOK, "second"))
	f.note(expectJoined(second, http.StatusOK, "first"))
	if err := f.readStats(ctx, c, matchapi.Stats{Requests: 3, Paired: 1, TimedOut: 1}); err != nil {
		return err
	}
	return f.err()
}

// peerJustInTime, on a fake clock: a peer that comes a millisecond before
// the pair timeout is in time.
func peerJustInTime(ctx context.Context, tg *scenario.Target) error {
	const pairTimeout = matchapi.DefaultPairTimeout
	c := NewClient(tg, scenario.AnswerWait)

	earlyAnswer := c.JoinAsync(ctx, "early")
	time.Sleep(pairTimeout - time.Millisecond)
	late := c.Join(ctx, "late")
	early := <-earlyAnswer

	var f findings
	f.note(CheckPairs([]Joined{early, late}))
	f.note(expectJoined(early, http.StatusOK, "late"))
	f.note(expectJoined(late, http.StatusOK, "early"))
	if err := f.readStats(ctx, c, matchapi.Stats{Requests: 2, Paired: 1}); err != nil {
		return err
	}
	return f.err()
}

// timeoutAndPeerAtOnce, on a fake clock: a peer comes at the very instant
// the waiting client's pair timeout passes. Either may win, but the client
// gets exactly one outcome: paired with that peer (both 200), or 408 and the
// peer waits for the next client.
func timeoutAndPeerAtOnce(ctx context.Context, tg *scenario.Target) error {
	const pairTimeout = matchapi.DefaultPairTimeout
	c := NewClient(tg, scenario.AnswerWait)

	var results []Joined
	timedOut := 0
	for round := range sameInstantRounds {
		waiterAnswer := c.JoinAsync(ctx, fmt.Sprintf("waiter-%d", round))
		time.Sleep(pairTimeout)
		peerAnswer := c.JoinAsync(ctx, fmt.Sprintf("peer-%d", round))
		tg.Settle() // everything due at this instant has happened

		var waiter Joined
		select {
		case waiter = <-waiterAnswer:
		default:
			return fmt.Errorf("round %d: the waiter has no answer at its pair timeout", round)
		}
		results = append(results, waiter)
		switch waiter.Status {
		case http.StatusOK:
			results = append(results, <-peerAnswer)
		case http.StatusRequestTimeout:
			timedOut++
			next := c.Join(ctx, fmt.Sprintf("next-%d", round))
			results = append(results, <-peerAnswer, next)
		default:
			return fmt.Errorf("round %d: the waiter got %s", round, waiter.Outcome())
		}
	}

	var f findings
	f.note(CheckPairs(results))
	for _, r := range results {
		if !r.Paired() && r.Status != http.StatusRequestTimeout {
			f.note(fmt.Errorf("%s: %s, want 200 or 408", r.ID, r.Outcome()))
		}
	}
	s, err := c.Stats(ctx)
	if err != nil {
		return f.stop(err)
	}
	if want := int64(2*sameInstantRounds + timedOut); s.Requests != want {
		f.note(fmt.Errorf("/stats counts %d requests, want %d", s.Requests, want))
	}
	if s.TimedOut != int64(timedOut) {
		f.note(fmt.Errorf("/stats counts %d timed out, but %d clients got a 408", s.TimedOut, timedOut))
	}
	if s.Waiting != 0 {
		f.note(fmt.Errorf("/stats counts %d waiting, want none", s.Waiting))
	}
	f.note(CheckBalanced(s, "after the rounds"))
	return f.err()
}

// shutdownAnswersWaiters, on a fake clock: when the server begins to shut
// down (server.Config.OnShutdown calls the handler's Shutdown), a waiting
// client gets 503 at once instead of holding the shutdown up for the rest of
// its pair timeout, and so does any client that comes after.
func shutdownAnswersWaiters(ctx context.Context, tg *scenario.Target) error {
	if tg.Shutdown == nil {
		return errors.New("the server has no Shutdown to give server.Config.OnShutdown")
	}
	c := NewClient(tg, scenario.AnswerWait)

	waiterAnswer := c.JoinAsync(ctx, "waiter")
	tg.Settle() // the waiter is waiting
	start := time.Now()
	tg.Shutdown()
	waiter := <-waiterAnswer
	var f findings
	if waited := time.Since(start); waited != 0 {
		f.note(fmt.Errorf("the waiter was answered %v after the shutdown began, not at once", waited))
	}
	f.note(expectJoined(waiter, http.StatusServiceUnavailable, ""))
	f.note(expectBody(waiter, "server shutting down\n"))
	s, err := c.Stats(ctx)
	if err != nil {
		return f.stop(err)
	}
	// A client left in the queue is handed out to the next one, from a
	// goroutine that writes its finished ResponseWriter: stop here, before
	// the race detector ends the process with a report that hides this.
	if s.Waiting != 0 {
		return f.stop(LeftQueued.Errorf("every client has had its answer, but /stats says %d waiting", s.Waiting))
	}

	late := c.Join(ctx, "late")
	f.note(expectJoined(late, http.StatusServiceUnavailable, ""))
	f.note(CheckPairs([]Joined{waiter, late}))
	if err := f.readStats(ctx, c, matchapi.Stats{Requests: 2, Canceled: 2}); err != nil {
		return err
	}
	return f.err()
}

// loopbackAddr is how a server on loopback names a client without an id.
var loopbackAddr = regexp.MustCompile(`^127\.0\.0\.1:\d+$`)

// badInputChangesNothing: every bad request of the battery gets a one-line
// 4xx and changes nothing, and afterwards the server still pairs clients,
// one named by its address and one with the longest id allowed.
func badInputChangesNothing(ctx context.Context, tg *scenario.Target) error {
	ctx, cancel := context.WithCancel(ctx) // ends the join still waiting if a step fails
	defer cancel()
	if err := badInput.Require(ctx, tg); err != nil {
		return err
	}

	c := loopbackClient(tg)
	longest := strings.Repeat("x", matchapi.MaxIDLen)
	namedAnswer := c.JoinAsync(ctx, longest)
	if _, err := c.AwaitStats(ctx, "the first client to wait", awaitWait,
		func(s matchapi.Stats) bool { return s.Waiting == 1 }); err != nil {
		return err
	}
	anonymous := c.Join(ctx, "") // no ?id=: named by its address
	named := <-namedAnswer

	var f findings
	f.note(expectJoined(anonymous, http.StatusOK, longest))
	if named.Err != nil {
		return f.stop(fmt.Errorf("the client with the longest id: no answer: %w", named.Err))
	}
	if named.Status != http.StatusOK {
		f.note(fmt.Errorf("the client with the longest id: %d %q, want 200", named.Status, named.Body))
	}
	if !loopbackAddr.MatchString(named.Peer) {
		f.note(fmt.Errorf("the client without an id is named %q, not by its address", named.Peer))
	}
	if named.PairID != anonymous.PairID {
		f.note(fmt.Errorf("a pair with two pair ids: %q and %q", named.PairID, anonymous.PairID))
	}
	if err := f.readStats(ctx, c, matchapi.Stats{Requests: 2, Paired: 1}); err != nil {
		return err
	}
	return f.err()
}
