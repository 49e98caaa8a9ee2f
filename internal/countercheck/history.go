package countercheck

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"concurrencylab/internal/scenario"
)

// The history phase's size. Checking a history for linearizability is a
// search that grows with the operations at the same time on one counter:
// measured against Python counters, 10 clients on one counter checked in
// 79 ms, 20 did not finish in 10 s. So the phase spreads few clients over
// several counters (about two at a time on each), and sets every counter
// between rounds, a barrier the search need not look across.
const (
	historyClients = 8
	historyNames   = 4
	historyRounds  = 3
	historyOps     = 15 // per client and round: 360 in all, and the sets and reads after each round
	// historyOpsRace is historyOps under the race detector, which slows
	// every request several times over: the test kit's history is smaller.
	historyOpsRace = 8
	// historyLimit bounds the check. A check that runs out of time is
	// reported unknown, never ok.
	historyLimit = 2 * time.Second
	// settleWait is how long a count that came out short is read again,
	// to tell a lost update (it stays short) from a stale read (a later
	// read counts every increment).
	settleWait = time.Second
	settlePoll = 20 * time.Millisecond // between those reads
)

// History is the history check alone, as a scenario, for a test that
// needs only it: the drive and ConcurrentIncrementsAreExact run it after
// their load.
var History = scenario.Scenario{Name: "HistoryIsLinearizable", Run: func(ctx context.Context, tg *scenario.Target) error {
	_, err := history(ctx, tg)
	return err
}}

// historyName is the counter i of the phase's.
func historyName(i int) string { return "h" + strconv.Itoa(i) }

// recorder collects a history's operations.
type recorder struct {
	tg    *scenario.Target
	start time.Time

	mu  sync.Mutex // guards ops
	ops []Op
}

// do sends op (its Client, Kind, Name and, for a set, Val) and records it
// with its answer. An answer the contract does not give (a 503) leaves
// the op's outcome unknown; no answer at all is the error that stops the
// phase: the server died or hung.
func (r *recorder) do(ctx context.Context, op Op) (Op, error) {
	path := "/" + op.Kind + "?" + Query(op.Name, "")
	if op.Kind == "set" {
		path = "/set?" + Query(op.Name, strconv.FormatInt(op.Val, 10))
	}
	op.Call = time.Since(r.start)
	resp, err := r.tg.Do(ctx, scenario.Request{Path: path, Wait: checkWait})
	op.Return = time.Since(r.start)
	if err != nil {
		return op, fmt.Errorf("history: %w", err)
	}
	op.Status = resp.Status
	if op.Kind == "get" && resp.Status == http.StatusOK {
		if op.Value, err = ParseCount(op.Name, resp.Line()); err != nil {
			op.Status = 0
		}
	}
	if !op.answered() {
		op.Status = 0
	}
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
	return op, nil
}

// record sends history's operations and records them: it returns the
// recorder with the history, or the error of a server that died, hung or
// lost increments.
func record(ctx context.Context, tg *scenario.Target) (*recorder, error) {
	r := &recorder{tg: tg, start: time.Now()}
	setAll := func(val int64) error {
		for i := range historyNames {
			if _, err := r.do(ctx, Op{Kind: "set", Name: historyName(i), Val: val}); err != nil {
				return err
			}
		}
		return nil
	}
	for round := range historyRounds {
		if err := setAll(int64(round) * 1000); err != nil {
			return nil, err
		}
		errs := make(chan error, historyClients)
		for c := range historyClients {
			go func() {
				rng := rand.New(rand.NewPCG(uint64(round), uint64(c)))
				for range opsPerRound() {
					op := Op{Client: c, Kind: "inc", Name: historyName(rng.IntN(historyNames))}
					if rng.IntN(3) == 0 {
						op.Kind = "get"
					}
					if _, err := r.do(ctx, op); err != nil {
						errs <- err
						return
					}
				}
				errs <- nil
			}()
		}
		var first error
		for range historyClients {
			first = firstErr(first, <-errs)
		}
		if first != nil {
			return nil, first
		}
		// Each counter must come to count the round's increments: read
		// until it does. Still short, they were lost.
		for name, want := range lastCounts(r.ops) {
			if err := r.settled(ctx, name, want); err != nil {
				return nil, err
			}
		}
	}

	return r, nil
}

// history sends a mix of increments and reads, two to one, from
// historyClients clients at once on historyNames counters, in
// historyRounds rounds with every counter set between them; after each
// round it reads each counter until it counts the round's increments (a
// lost update if it never does). It records every operation and checks
// the history against the contract (CheckHistory). If it is not linearizable, it names the
// first wrong answer (FirstWrong) and, where tg.DrawTo is set, draws the
// history there.
func history(ctx context.Context, tg *scenario.Target) (string, error) {
	r, err := record(ctx, tg)
	if err != nil {
		return "", err
	}
	check := CheckHistory(r.ops, historyLimit)
	what := fmt.Sprintf("history of %d operations on %d counters from %d clients", len(r.ops), historyNames, historyClients)
	switch check.Outcome {
	case Linearizable:
		return fmt.Sprintf("%s, linearizable (checked in %v)", what, roundTook(check.Took)), nil
	case Unknown:
		return "", HistoryUnchecked.Errorf("%s: not checked within %v", what, historyLimit)
	}
	err = r.notLinearizable(fmt.Sprintf("%s, checked in %v", what, roundTook(check.Took)))
	if tg.DrawTo != "" {
		if derr := check.Draw(tg.DrawTo, FirstWrong(r.ops)); derr != nil {
			return "", fmt.Errorf("%w; drawing the history failed: %v", err, derr)
		}
		scenario.Drawn(err, tg.DrawTo)
	}
	return "", err
}

// notLinearizable names what is wrong with a history that no order of its
// operations explains, where every counter came to count every increment
// (settled): a read lower than what was already counted is a stale read;
// any other, the first wrong answer.
func (r *recorder) notLinearizable(what string) error {
	w := FirstWrong(r.ops)
	switch {
	case w == nil:
		return WrongAnswer.Errorf("%s: no order of them gives every answer it got", what)
	case w.Kind == "stale read":
		return StaleReads.Errorf("%s (%s); every increment was counted", w.Detail, what)
	}
	return WrongAnswer.Errorf("%s: %s (%s)", w.Kind, w.Detail, what)
}

// count is what a counter must hold after a history's last set of it:
// the value set, and the increments answered ok since.
type count struct {
	set, incs int64
}

// lastCounts is, for each counter of ops, its count since its last set.
func lastCounts(ops []Op) map[string]count {
	last := map[string]Op{}
	for _, op := range ops {
		if op.Kind == "set" && op.Call >= last[op.Name].Call {
			last[op.Name] = op
		}
	}
	counts := map[string]count{}
	for name, set := range last {
		n := count{set: set.Val}
		for _, op := range ops {
			if op.Name == name && op.Kind == "inc" && op.Status == http.StatusOK && op.Call > set.Return {
				n.incs++
			}
		}
		counts[name] = n
	}
	return counts
}

// settled reads the counter name until it counts want or settleWait has
// passed: still short, increments answered ok were lost.
func (r *recorder) settled(ctx context.Context, name string, want count) error {
	var last Op
	ok, err := scenario.Await(ctx, settleWait, settlePoll, func() (bool, error) {
		var err error
		last, err = r.do(ctx, Op{Kind: "get", Name: name})
		return last.Status == http.StatusOK && last.Value >= want.set+want.incs, err
	})
	if err != nil || ok {
		return err
	}
	return CountShort.Errorf("%s: %d, still %v after %d increments answered ok since it was set to %d (%d lost)",
		name, last.Value, settleWait, want.incs, want.set, want.set+want.incs-last.Value)
}

// firstErr keeps the first non-nil error.
func firstErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// roundTook rounds a check's time for the evidence: 312µs, 4.2ms.
func roundTook(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(100 * time.Microsecond)
}

// opsPerRound is each client's operations in a round of the history.
func opsPerRound() int {
	if scenario.RaceEnabled {
		return historyOpsRace
	}
	return historyOps
}
