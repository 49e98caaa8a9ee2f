// Command goroutine takes orders: POST /orders?id=ID answers 202 Accepted at
// once and processes the order in a goroutine of its own; GET /orders/{id}
// says whether it is done. POST /orders/sync?id=ID processes the order in
// the handler itself and answers when it is done. GET /health answers "ok".
//
// BROKEN ON PURPOSE: processing trusts an order id to look like "order-17"
// and reads the part after the "-", so an id without one panics: "index out
// of range [1] with length 1". Where it panics decides what happens:
//
//   - In the handler (/orders/sync), net/http recovers the panic: that
//     client gets an empty reply, the server logs "http: panic serving ..."
//     and serves on.
//   - In the goroutine the handler started (/orders), nothing recovers it.
//     net/http's recover covers the handler's own goroutine only, so the
//     panic kills the whole process, with every request in flight, exit
//     status 2; the client that sent the poison got its 202 first. The seed's
//     matchmaker died this way (../../1_naive-race/matchmaker).
//
// The poison:
//
//	go run ./4_panic-safety/goroutine &
//	curl -X POST '127.0.0.1:8000/orders?id=oops'    # accepted, then the server dies
//	kill %1    # if it still runs: stops go run and the server with it
//
// Prove it: go test ./4_panic-safety/goroutine
package main

import (
	"fmt"
	"io"
	"net/http"
	"strconv"

	"concurrencylab/internal/server"
)

// maxIDBytes bounds an order id.
const maxIDBytes = 128

func main() {
	server.Main(newHandler(newOrders()))
}

// newHandler routes the orders API to o.
func newHandler(o *orders) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		id, ok := orderID(w, r)
		if !ok {
			return
		}
		accept(w)
		go o.process(id) // the poison: an id without "-"
	})
	mux.HandleFunc("POST /orders/sync", func(w http.ResponseWriter, r *http.Request) {
		id, ok := orderID(w, r)
		if !ok {
			return
		}
		o.process(id) // the poison: an id without "-"
		fmt.Fprint(w, "processed\n")
	})
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		if !o.isProcessed(r.PathValue("id")) {
			http.Error(w, "not processed", http.StatusNotFound)
			return
		}
		fmt.Fprint(w, "processed\n")
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "ok\n")
	})
	return mux
}

// orderID returns the request's id parameter, or answers 400 if it is
// missing or too long.
func orderID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.URL.Query().Get("id")
	switch {
	case id == "":
		http.Error(w, "missing id", http.StatusBadRequest)
		return "", false
	case len(id) > maxIDBytes:
		http.Error(w, fmt.Sprintf("id over %d bytes", maxIDBytes), http.StatusBadRequest)
		return "", false
	}
	return id, true
}

// accept answers 202 Accepted and sends the whole answer on its way before
// the work starts, as a 202 should. (It also keeps the test deterministic:
// whatever the work does next, the client has its answer.)
func accept(w http.ResponseWriter) {
	const answer = "accepted\n"
	w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, answer)
	http.NewResponseController(w).Flush()
}
