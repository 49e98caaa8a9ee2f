package matchcheck

import (
	"context"
	"net/http"
	"strings"

	"concurrencylab/internal/matchapi"
	"concurrencylab/internal/scenario"
)

// badInput is the matchmaker's battery: each case gets a 4xx with a
// one-line message, and changes nothing: /stats stays all zero, as a fresh
// server starts.
var badInput = scenario.Battery{
	Cases:   badInputCases(),
	Prepare: scenario.Unchanged("/stats", readStats, nil),
}

func badInputCases() []scenario.Case {
	tooLong := strings.Repeat("x", matchapi.MaxIDLen+1)
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

// readStats reads /stats, which no bad request may change: nobody
// counted, queued or paired.
func readStats(ctx context.Context, tg *scenario.Target) (matchapi.Stats, error) {
	return NewClient(tg, scenario.AnswerWait).Stats(ctx)
}
