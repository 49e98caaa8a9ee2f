package notifyapi

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
