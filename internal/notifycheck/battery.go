package notifycheck

import (
	"context"
	"net/http"
	"strings"

	"concurrencylab/internal/notifyapi"
	"concurrencylab/internal/scenario"
)

// badInput is the notifier's bad input: each request gets a 4xx with a
// one-line message and changes nothing.
var badInput = []scenario.Case{
	{Method: "POST", Path: "/resources", Body: `{"name":`, Status: http.StatusBadRequest},
	{Method: "POST", Path: "/resources", Body: ``, Status: http.StatusBadRequest},
	{Method: "POST", Path: "/resources", Body: `{"a":1} {"b":2}`, Status: http.StatusBadRequest},
	// Valid JSON, one byte over the limit.
	{Method: "POST", Path: "/resources", Body: `"` + strings.Repeat("x", notifyapi.MaxBodyBytes-1) + `"`, Status: http.StatusRequestEntityTooLarge},
	{Method: "PUT", Path: "/resources/" + noSuchID, Body: `{}`, Status: http.StatusNotFound},
	{Method: "PUT", Path: "/resources/x", Body: `{}`, Status: http.StatusNotFound},
	{Path: "/resources/" + noSuchID, Status: http.StatusNotFound},
	{Path: "/resources/0", Status: http.StatusNotFound},
	{Path: "/resources/-1", Status: http.StatusNotFound},
	{Path: "/resources/99999999999999999999", Status: http.StatusNotFound},
	{Path: "/resources", Status: http.StatusMethodNotAllowed},
	{Method: "DELETE", Path: "/resources/" + noSuchID, Status: http.StatusMethodNotAllowed},
	{Method: "POST", Path: "/stats", Body: `{}`, Status: http.StatusMethodNotAllowed},
	{Path: "/events", Status: http.StatusNotFound},
	{Path: "/ws", Status: http.StatusBadRequest}, // not a websocket handshake
	// A websocket handshake from a foreign origin: a page of another site
	// may not subscribe.
	{Path: "/ws", Header: http.Header{
		"Connection":            {"Upgrade"},
		"Upgrade":               {"websocket"},
		"Sec-Websocket-Version": {"13"},
		"Sec-Websocket-Key":     {"dGhlIHNhbXBsZSBub25jZQ=="},
		"Origin":                {"http://elsewhere.example"},
	}, Status: http.StatusForbidden},
}

// noSuchID is a resource id no server has given: a server would have to
// have stored every resource an int64 can number.
const noSuchID = "9223372036854775807"

// battery is the bad input against a server whose /stats, read first, no
// bad request may change: no event published, no subscriber added or
// removed. If want is not nil, /stats must first be want.
func battery(want *notifyapi.Stats) scenario.Battery {
	read := func(ctx context.Context, tg *scenario.Target) (notifyapi.Stats, error) {
		return NewClient(tg, scenario.AnswerWait).Stats(ctx)
	}
	return scenario.Battery{Cases: badInput, Prepare: scenario.Unchanged("/stats", read, want)}
}
