package matchapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"concurrencylab/internal/scenario"
)

// badInput is the matchmaker's battery: each case gets a 4xx with a
// one-line message, and changes nothing: /stats stays all zero, as a fresh
// server starts.
var badInput = scenario.Battery{
	Cases:   badInputCases(),
	Prepare: snapshotStats,
}

func badInputCases() []scenario.Case {
	tooLong := strings.Repeat("x", MaxIDLen+1)
	const bad = http.StatusBadRequest
	return []scenario.Case{
		{Path: "/?id=", Status: bad},
		{Path: "/?id=" + tooLong, Status: bad},
		{Path: "/?id=two%0Alines", Status: bad},
		{Path: "/?id=%FF%FE", Status: bad}, // not UTF-8
		{Path: "/?id=%00", Status: bad},
		{Method: http.MethodPost, Path: "/", Status: http.StatusMethodNotAllowed},
		{Method: http.MethodPut, Path: "/?id=a", Status: http.StatusMethodNotAllowed},
		{Method: http.MethodDelete, Path: "/stats", Status: http.StatusMethodNotAllowed},
		{Path: "/pair", Status: http.StatusNotFound},
	}
}

// snapshotStats reads /stats, and returns the check that a bad request
// changed none of it: nobody was counted, queued or paired.
func snapshotStats(ctx context.Context, tg *scenario.Target) (func(context.Context) error, error) {
	c := NewClient(tg, scenario.AnswerWait)
	before, err := c.Stats(ctx)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		s, err := c.Stats(ctx)
		if err != nil {
			return err
		}
		if s != before {
			return fmt.Errorf("/stats is %+v, was %+v", s, before)
		}
		return nil
	}, nil
}
