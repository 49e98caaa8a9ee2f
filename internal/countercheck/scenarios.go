// Package countercheck checks a server against the counter's contract
// (internal/counterapi), by its answers alone: a Client that speaks the
// contract, the Subject's scenarios that the versions' tests run, its drive
// under the harness's load, its battery of bad input, and the ways a broken
// counter fails. The lessons never import it; their tests do.
package countercheck

import (
	"context"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"concurrencylab/internal/counterapi"
	"concurrencylab/internal/scenario"
)

// Subject is the counter, as the test kit and the harness know it: its
// suite, its drive under load and its bad input.
var Subject = scenario.Subject{
	Name:     "counter",
	Contract: "GET|POST /set?name=N&val=V, GET /get?name=N, GET|POST /inc?name=N",
	Scenarios: []scenario.Scenario{
		{Name: "ConcurrentIncrementsAreExact", Run: concurrentIncrements},
		{Name: "InitialCounters", Run: initialCounters},
		{Name: "SetGetRoundTrip", Run: setGetRoundTrip},
		{Name: "BadInputChangesNothing", Run: runBadInput},
	},
	Drive:   drive,
	Battery: badInput,
}

// concurrentIncrements sets hits to 0 and sends it the load's increments,
// many at once over keep-alive connections, as the drive does: under the
// test kit's load, 50 clients and 2,000 increments under -race, 200 and
// 20,000 (the seed's ab -n 20000 -c 200) without. The count must come out
// exact, every increment answered "ok"; then a history of increments, reads
// and sets from several clients must be linearizable (history).
func concurrentIncrements(ctx context.Context, tg *scenario.Target) error {
	c := NewClient(tg, scenario.AnswerWait)
	if err := c.Expect(ctx, http.MethodPost, "/set?name=hits&val=0", http.StatusOK, "ok"); err != nil {
		return err
	}
	b, count := tg.Load.Spec("/inc?name=hits")
	_, err := incrementsThenHistory(ctx, tg, c, "hits", b, count)
	return err
}

// initialCounters checks that a fresh server holds counterapi.InitialCounters.
func initialCounters(ctx context.Context, tg *scenario.Target) error {
	c := NewClient(tg, scenario.AnswerWait)
	initial := counterapi.InitialCounters()
	for _, name := range slices.Sorted(maps.Keys(initial)) {
		line := name + ": " + strconv.FormatInt(initial[name], 10)
		if err := c.Expect(ctx, http.MethodGet, "/get?"+Query(name, ""), http.StatusOK, line); err != nil {
			return err
		}
	}
	return nil
}

// setGetRoundTrip sets counters with GET and with POST, overwrites them,
// at both ends of int64 and with the longest name, and reads each back;
// then increments with POST and GET, and reads a counter nobody set.
func setGetRoundTrip(ctx context.Context, tg *scenario.Target) error {
	c := NewClient(tg, scenario.AnswerWait)
	longest := strings.Repeat("n", counterapi.MaxNameLen)
	for _, tc := range []struct{ name, val string }{
		{"x", "42"},
		{"x", "-7"}, // overwrite
		{"max", strconv.FormatInt(math.MaxInt64, 10)},
		{"min", strconv.FormatInt(math.MinInt64, 10)},
		{"spaces and ünïcode", "1"},
		{longest, "128"},
	} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			if err := c.Expect(ctx, method, "/set?"+Query(tc.name, tc.val), http.StatusOK, "ok"); err != nil {
				return err
			}
			if err := c.Expect(ctx, http.MethodGet, "/get?"+Query(tc.name, ""), http.StatusOK, tc.name+": "+tc.val); err != nil {
				return err
			}
		}
	}

	for _, step := range []struct {
		method, path string
		status       int
		line         string
	}{
		{http.MethodPost, "/set?name=y&val=0", http.StatusOK, "ok"},
		{http.MethodPost, "/inc?name=y", http.StatusOK, "ok"},
		{http.MethodGet, "/inc?name=y", http.StatusOK, "ok"},
		{http.MethodGet, "/get?name=y", http.StatusOK, "y: 2"},
		{http.MethodGet, "/get?name=nobody", http.StatusNotFound, "nobody not found"},
	} {
		if err := c.Expect(ctx, step.method, step.path, step.status, step.line); err != nil {
			return err
		}
	}
	return nil
}
