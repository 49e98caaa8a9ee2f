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
	Cases:     badInputCases(),
	Unchanged: unchangedByBadInput,
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

// unchangedByBadInput checks that /stats is still all zero: nobody was
// counted, queued or paired.
func unchangedByBadInput(ctx context.Context, tg *scenario.Target) error {
	s, err := NewClient(tg, scenario.AnswerWait).Stats(ctx)
	if err != nil {
		return err
	}
	if s != (Stats{}) {
		return fmt.Errorf("/stats is %+v, want all zero: nothing changed", s)
	}
	return nil
}
