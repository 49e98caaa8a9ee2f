package notifyapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"concurrencylab/internal/scenario"
)

// badInput is the notifier's bad input: each request gets a 4xx with a
// one-line message and changes nothing.
var badInput = []scenario.Case{
	{Method: "POST", Path: "/resources", Body: `{"name":`, Status: http.StatusBadRequest},
	{Method: "POST", Path: "/resources", Body: ``, Status: http.StatusBadRequest},
	{Method: "POST", Path: "/resources", Body: `{"a":1} {"b":2}`, Status: http.StatusBadRequest},
	// Valid JSON, one byte over the limit.
	{Method: "POST", Path: "/resources", Body: `"` + strings.Repeat("x", MaxBodyBytes-1) + `"`, Status: http.StatusRequestEntityTooLarge},
	{Method: "PUT", Path: "/resources/1", Body: `{}`, Status: http.StatusNotFound},
	{Method: "PUT", Path: "/resources/x", Body: `{}`, Status: http.StatusNotFound},
	{Path: "/resources/1", Status: http.StatusNotFound},
	{Path: "/resources/0", Status: http.StatusNotFound},
	{Path: "/resources/-1", Status: http.StatusNotFound},
	{Path: "/resources/99999999999999999999", Status: http.StatusNotFound},
	{Path: "/resources", Status: http.StatusMethodNotAllowed},
	{Method: "DELETE", Path: "/resources/1", Status: http.StatusMethodNotAllowed},
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

// quietBattery is the bad input against a server that has published
// nothing and counts subscribers subscribers, which it must go on doing.
func quietBattery(subscribers int64) scenario.Battery {
	quiet := Stats{Subscribers: subscribers}
	check := func(ctx context.Context, tg *scenario.Target) error {
		s, err := NewClient(tg, scenario.AnswerWait).Stats(ctx)
		if err != nil {
			return err
		}
		if s != quiet {
			return fmt.Errorf("/stats is %+v, want %+v", s, quiet)
		}
		return nil
	}
	return scenario.Battery{Cases: badInput, Prepare: check, Unchanged: check}
}
