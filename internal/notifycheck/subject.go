// Package notifycheck checks a server against the notifier's contract
// (internal/notifyapi), by its answers alone: a Client that speaks the
// contract over HTTP and websockets, the Subject's scenarios that the
// versions' tests run, its drive under the harness's load (with a stalled
// subscriber, StalledDialer), its battery of bad input, and the ways a
// broken notifier fails. The lessons never import it; their tests do.
package notifycheck

import "concurrencylab/internal/scenario"

// Subject is the notifier as the engines see it: its test suite, its drive
// under the harness's load, and its bad input, which may change nothing of
// what /stats counts, whatever the server served before.
var Subject = scenario.Subject{
	Name:      "notifier",
	Contract:  "GET /ws (a websocket of every change as an event), POST /resources, PUT|GET /resources/{id}, GET /stats",
	Scenarios: scenarios,
	Drive:     drive,
	Battery:   battery(nil),
}
