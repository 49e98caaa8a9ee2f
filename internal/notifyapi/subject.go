package notifyapi

import "concurrencylab/internal/scenario"

// Subject is the notifier as the engines see it: its test suite, its drive
// under the harness's load, and its bad input, judged against a fresh
// server that has published nothing and has no subscriber.
var Subject = scenario.Subject{
	Name:      "notifier",
	Contract:  "GET /ws (a websocket of every change as an event), POST /resources, PUT|GET /resources/{id}, GET /stats",
	Scenarios: scenarios,
	Drive:     drive,
	Battery:   quietBattery(0),
}
