package countercheck

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"

	"concurrencylab/internal/counterapi"
	"concurrencylab/internal/scenario"
)

// badInput is the counter's battery: each case gets a 4xx with a one-line
// message, and the counters s and max stay as they were, nobody stays
// absent, and the server serves on.
var badInput = scenario.Battery{
	Cases:   badInputCases(),
	Prepare: prepareBadInput,
}

func badInputCases() []scenario.Case {
	tooLong := strings.Repeat("n", counterapi.MaxNameLen+1)
	const bad = http.StatusBadRequest
	return []scenario.Case{
		{Path: "/get", Status: bad},
		{Path: "/get?name=", Status: bad},
		{Path: "/set?val=1", Status: bad},
		{Path: "/set?name=&val=1", Status: bad},
		{Path: "/set?name=s", Status: bad},
		{Path: "/set?name=s&val=", Status: bad},
		{Path: "/set?name=s&val=abc", Status: bad},
		{Path: "/set?name=s&val=1.5", Status: bad},
		{Path: "/set?name=s&val=0x10", Status: bad},
		{Path: "/set?name=s&val=9223372036854775808", Status: bad},     // MaxInt64 + 1
		{Path: "/set?name=s&val=-9223372036854775809", Status: bad},    // MinInt64 - 1
		{Path: "/set?name=s&val=99999999999999999999999", Status: bad}, // far out of range
		{Path: "/set?" + Query(tooLong, "1"), Status: bad},
		{Path: "/get?" + Query(tooLong, ""), Status: bad},
		{Path: "/inc?" + Query(tooLong, ""), Status: bad},
		{Path: "/inc", Status: bad},
		{Path: "/inc?name=nobody", Status: http.StatusNotFound},
		{Path: "/inc?name=max", Status: http.StatusConflict},
		{Method: http.MethodDelete, Path: "/set?name=s&val=1", Status: http.StatusMethodNotAllowed},
		{Method: http.MethodPut, Path: "/inc?name=s", Status: http.StatusMethodNotAllowed},
		{Method: http.MethodPost, Path: "/get?name=s", Status: http.StatusMethodNotAllowed},
		{Path: "/", Status: http.StatusNotFound},
		{Path: "/delete?name=s", Status: http.StatusNotFound},
	}
}

// prepareBadInput sets the counters the cases aim at: s to 7, and max to
// math.MaxInt64, where an increment overflows.
func prepareBadInput(ctx context.Context, tg *scenario.Target) (func(context.Context) error, error) {
	c := NewClient(tg, scenario.AnswerWait)
	if err := c.Set(ctx, "s", 7); err != nil {
		return nil, err
	}
	if err := c.Set(ctx, "max", math.MaxInt64); err != nil {
		return nil, err
	}
	// A server whose reads come from a copy (a cache) may not show the
	// counters set yet: wait until it does, so that no case is blamed for
	// a stale read, which the history check names.
	if _, err := scenario.Await(ctx, settleWait, settlePoll, func() (bool, error) {
		return unchangedByBadInput(ctx, c) == nil, nil
	}); err != nil {
		return nil, err
	}
	return func(ctx context.Context) error { return unchangedByBadInput(ctx, c) }, nil
}

// unchangedByBadInput checks that s and max are as prepareBadInput left
// them and that nobody is still not found.
func unchangedByBadInput(ctx context.Context, c *Client) error {
	for _, want := range []struct {
		name string
		val  int64
	}{{"s", 7}, {"max", math.MaxInt64}} {
		val, err := c.Get(ctx, want.name)
		if err != nil {
			return err
		}
		if val != want.val {
			return fmt.Errorf("%s is %d, was %d", want.name, val, want.val)
		}
	}
	if err := c.Expect(ctx, http.MethodGet, "/get?name=nobody", http.StatusNotFound, "nobody not found"); err != nil {
		return err
	}
	return nil
}

// runBadInput runs the battery and fails unless every case was answered
// as the contract says, listing every deviation.
func runBadInput(ctx context.Context, tg *scenario.Target) error {
	return badInput.Require(ctx, tg)
}
