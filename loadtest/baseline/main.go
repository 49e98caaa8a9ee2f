// Command baseline is the load harness's yardstick: a lab server (the same
// start-up, timeouts and shutdown as every version) whose handler does
// nothing but answer "ok". What a version serves per second, divided by
// what this serves under the same load in the same run, is the cost of
// that version's work and synchronization, with the cost of HTTP itself,
// the load generator and the machine taken out.
//
//	go run ./loadtest/baseline &
//	go tool hey -n 20000 -c 200 "http://127.0.0.1:8000/inc?name=i"
package main

import (
	"io"
	"net/http"

	"concurrencylab/internal/server"
)

func main() {
	server.Main(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read what the client sent, as a real handler would, and answer.
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok\n")
	}))
}
