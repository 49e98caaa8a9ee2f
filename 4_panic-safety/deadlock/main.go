// Command deadlock serves the seed's MyShinyMetalThing: a list of comments
// behind a sync.Mutex. POST /comments?text=T adds one; GET /comments?last=N
// answers the last N, one per line. The list starts with "first!".
//
// BROKEN ON PURPOSE, as the seed wrote it: last() locks the mutex, takes
// t.comments[len(t.comments)-n:] and only then unlocks, with no defer. Ask
// for more comments than there are and the slice expression panics between
// Lock and Unlock: "slice bounds out of range". net/http recovers the panic
// (the client gets an empty reply, the server logs "http: panic serving ...")
// and goes on serving, but the Unlock never ran: the mutex stays locked, and
// every later request that needs it, read or write, hangs forever. The server
// looks alive: it accepts connections and still answers what never reaches
// the mutex (a 400 for bad input), but no comment is read or written again.
// The poison:
//
//	go run ./4_panic-safety/deadlock &
//	curl '127.0.0.1:8000/comments?last=5'    # curl: (52) Empty reply from server
//	curl '127.0.0.1:8000/comments?last=1'    # hangs
//
// Even Ctrl-C hangs then: the graceful shutdown waits its 10s for the hung
// requests, in vain, and exits 1 ("shutdown: context deadline exceeded").
//
// The counter store served on the same port (counter.go) unlocks the same
// way, so the poison that makes the panic-safe counter exit deadlocks it:
//
//	curl '127.0.0.1:8000/set?name=hits@&val=1'   # curl: (52) Empty reply from server
//	curl '127.0.0.1:8000/get?name=i'             # hangs
//	kill %1    # stops go run and the server with it, after the 10s grace
//
// Prove it: go test ./4_panic-safety/deadlock
//
// A defer would free the mutex, but not make a half-done change whole: see
// ../halfdone. chi's middleware.Recoverer changes the reply, not the hang:
// see ../recoverer.
package main

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"concurrencylab/internal/counterapi"
	"concurrencylab/internal/server"
)

// maxTextBytes bounds a comment.
const maxTextBytes = 256

func main() {
	server.Main(newHandler(newThing(), newCounterStore()))
}

// newHandler routes the comments API to t, and the counter contract
// (/set, /get, /inc) to counters.
func newHandler(t *thing, counters *counterStore) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", counterapi.NewHandler(counters))
	mux.HandleFunc("POST /comments", func(w http.ResponseWriter, r *http.Request) {
		text := r.URL.Query().Get("text")
		if err := checkText(text); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		t.add(text)
		fmt.Fprint(w, "ok\n")
	})
	mux.HandleFunc("GET /comments", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("last"))
		if err != nil || n < 1 {
			http.Error(w, "last must be a positive integer", http.StatusBadRequest)
			return
		}
		for _, c := range t.last(n) { // the poison: n > the number of comments
			fmt.Fprintln(w, c)
		}
	})
	return mux
}

// checkText says what is wrong with a comment's text, if anything.
func checkText(text string) error {
	switch {
	case text == "":
		return errors.New("missing text")
	case len(text) > maxTextBytes:
		return fmt.Errorf("text over %d bytes", maxTextBytes)
	case strings.ContainsAny(text, "\r\n"):
		return errors.New("text must be one line")
	}
	return nil
}
