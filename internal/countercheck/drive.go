package countercheck

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"concurrencylab/internal/scenario"
)

// IncPath is the seed's load on the counter store (`ab -n 20000 -c 200
// "127.0.0.1:8000/inc?name=i"`). The harness's baseline serves the same
// requests, so the two rates compare.
const IncPath = "/inc?name=" + loadCounter

// loadCounter is the counter the drive increments: one of
// counterapi.InitialCounters, so that the seed's command works as written.
const loadCounter = "i"

// checkWait bounds the requests that check a server's state under the
// harness: a server under no load answers them in microseconds.
const checkWait = 2 * time.Second

// drive increments the counter i from many clients at once, in the
// harness's bursts, and checks after each burst that /get counts every
// increment that was answered "ok"; then it checks a history of mixed
// operations for linearizability (history). It leaves the server serving,
// so that a drive of a panic demo can go on to send its poison.
func drive(ctx context.Context, tg *scenario.Target) (string, error) {
	if tg.Load == nil {
		return "", errors.New("the counter's drive needs a target with a Load to send its bursts")
	}
	b, count := tg.Load.Spec(IncPath)
	return incrementsThenHistory(ctx, tg, NewClient(tg, checkWait), loadCounter, b, count)
}

// incrementsThenHistory is incrementUnderLoad, then the history check. A
// stale read seen under load is reported by the history, which draws it,
// if the history shows one too.
func incrementsThenHistory(ctx context.Context, tg *scenario.Target, c *Client, name string, b scenario.Burst, count int) (string, error) {
	evidence, err := incrementUnderLoad(ctx, tg, c, name, b, count)
	if err != nil && !StaleReads.In(err) {
		return "", err
	}
	checked, herr := history(ctx, tg)
	switch {
	case herr != nil:
		return "", herr
	case err != nil:
		return "", err
	}
	return evidence + "; " + checked, nil
}

// incrementUnderLoad sends count bursts of b, increments of the counter
// name, through tg.Load, reading the counter before and after each burst,
// and checks each burst on its own (see checkBurst): every request
// answered, and answered 200. It returns the evidence of the whole run.
// The drive and the ConcurrentIncrementsAreExact scenario are both this.
func incrementUnderLoad(ctx context.Context, tg *scenario.Target, c *Client, name string, b scenario.Burst, count int) (string, error) {
	before, err := c.Get(ctx, name)
	if err != nil {
		return "", fmt.Errorf("before the load: %w", err)
	}
	exact := tg.Load.CountsExactly()
	start := before
	stale := "" // a short count that caught up: a stale read
	val, answered := before, 0
	for k := 1; k <= count; k++ {
		smp, err := tg.Load.Send(ctx, b)
		if err != nil {
			return "", err // the server died or hung: a Failure says which
		}
		if err := smp.Unanswered(b); err != nil {
			return "", err
		}
		after, err := c.Get(ctx, name)
		if err != nil {
			return "", fmt.Errorf("after %d increments answered ok: %w", answered+smp.OKCount(), err)
		}
		bc := burstCount{Before: before, After: after, OK: smp.OKCount(), C: b.C, Earlier: before - start - int64(answered)}
		if err := checkBurst(name, exact, bc, k, count); err != nil {
			// Short: lost, counted apart, or read from a stale copy? A
			// later read that counts them all tells the last.
			later, serr := caughtUpAfter(ctx, c, name, bc.Before+int64(bc.OK))
			if !CountShort.In(err) || serr != nil {
				if split := splitAcross(ctx, tg, name, answered+bc.OK); split != nil {
					return "", split
				}
				return "", err
			}
			if stale == "" {
				stale = fmt.Sprintf("%s: %d right after %d increments answered ok, %d a moment later", name, after, answered+bc.OK, later)
			}
			after = later
		}
		if other := smp.Answered - smp.Codes[http.StatusOK]; other > 0 {
			return "", fmt.Errorf("%d of %d %s %s answered other than 200 \"ok\": %s",
				other, smp.Answered, b.MethodOrGet(), scenario.Shorten(b.Path), smp.CodesSummary())
		}
		answered += bc.OK
		before, val = after, after
	}
	if stale != "" {
		return "", StaleReads.Errorf("%s; every increment was counted", stale)
	}
	evidence := fmt.Sprintf("%s: %d after %d increments, %d at a time", name, val, answered, b.C)
	if inFlight := val - start - int64(answered); inFlight > 0 {
		// A loader that stops on a timer: checkBurst allowed each burst's C.
		evidence += fmt.Sprintf(", and %d more that were in flight when the load stopped", inFlight)
	}
	return evidence, nil
}

// A burstCount is what one burst of increments did to a counter.
type burstCount struct {
	Before, After int64 // the counter, read before the burst and after it
	OK            int   // increments answered 2xx
	C             int   // sent at a time: the most left in flight when a loader stops on a timer
	// Earlier is how far the counter was ahead of the increments answered
	// ok before this burst: requests that earlier bursts left in flight.
	Earlier int64
}

// checkBurst checks one burst of increments of the counter name, k of n,
// on its own. A loader that counts exactly (hey, ab, the test kit's) saw
// every increment the server handled: the counter must have grown by the
// increments answered ok, exactly. One that stops on a timer (wrk) may
// have left up to C requests in flight at the end of each burst, which the
// server may count then or a moment later, after the counter was read: by
// the end of burst k the counter may be ahead of the answers by up to k×C
// (issue 17). Grown by less than the answers, increments that were
// answered ok were lost: an increment answered ok was counted before its
// answer, and so before the read that follows the burst. Ahead by more,
// it counted increments nobody sent.
func checkBurst(name string, exact bool, bc burstCount, k, n int) error {
	grew := bc.After - bc.Before
	ok := int64(bc.OK)
	inFlight := int64(k*bc.C) - bc.Earlier // what this and earlier bursts may still have had in flight
	if exact {
		inFlight = 0
	}
	what := func(only string) string {
		s := fmt.Sprintf("%s: %d after %s%d increments answered ok", name, bc.After, only, bc.OK)
		if bc.Before != 0 {
			s = fmt.Sprintf("%s: %d, then %d after %s%d more increments answered ok", name, bc.Before, bc.After, only, bc.OK)
		}
		return s + fmt.Sprintf(", %d at a time", bc.C)
	}
	of := ""
	if n > 1 {
		of = fmt.Sprintf(", burst %d of %d", k, n)
	}
	switch {
	case grew < ok:
		return CountShort.Errorf("%s (%d lost%s)", what(""), ok-grew, of)
	case grew > ok+inFlight && exact:
		return fmt.Errorf("%s (%d more%s)", what("only "), grew-ok, of)
	case grew > ok+inFlight:
		return fmt.Errorf("%s (%d more, and at most %d were in flight%s)", what("only "), grew-ok, inFlight, of)
	}
	return nil
}

// splitAcross asks each of tg's replicas, if it has several, for the
// counter name, and reports CountedApart if they disagree: each counted its own
// share of the answered increments. Nil if they agree, or if tg is one
// server.
func splitAcross(ctx context.Context, tg *scenario.Target, name string, answered int) error {
	if len(tg.Replicas) < 2 {
		return nil
	}
	counts := make([]int64, len(tg.Replicas))
	var sum int64
	for i, url := range tg.Replicas {
		replica := *tg
		replica.URL, replica.Replicas = url, nil
		val, err := NewClient(&replica, checkWait).Get(ctx, name)
		if err != nil {
			return nil // the burst's own error says more
		}
		counts[i], sum = val, sum+val
	}
	if !slices.ContainsFunc(counts, func(v int64) bool { return v != counts[0] }) {
		return nil
	}
	shares := make([]string, len(counts))
	for i, v := range counts {
		shares[i] = strconv.FormatInt(v, 10)
	}
	return CountedApart.Errorf("%s: %s on the %d replicas, %d in all, after %d increments answered ok: each replica counts only its own",
		name, strings.Join(shares, ", "), len(counts), sum, answered)
}

// caughtUpAfter reads the counter name until it counts want, for up to
// settleWait, and returns what it read then; an error if it never did.
func caughtUpAfter(ctx context.Context, c *Client, name string, want int64) (int64, error) {
	var val int64
	ok, err := scenario.Await(ctx, settleWait, settlePoll, func() (bool, error) {
		var err error
		val, err = c.Get(ctx, name)
		return val >= want, err
	})
	if err == nil && !ok {
		err = errors.New("still short")
	}
	return val, err
}
