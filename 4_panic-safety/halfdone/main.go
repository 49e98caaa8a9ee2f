// Command halfdone serves the seed's ByteCache: byte values by key, at most
// -max-size bytes in all (5 by default). PUT /cache/{key} stores the request
// body, GET /cache/{key} returns it, GET /stats reports the byte counts.
//
// BROKEN ON PURPOSE, as in the seed: put defers its Unlock, so the mutex
// survives a panic, but it adds the data's length to currSize before it
// stores the data, and for the key "burn" it panics in between. net/http
// recovers the panic (the client gets an empty reply, the server logs
// "http: panic serving ...") and goes on serving from a half-done change:
// the mutex is free, and the invariant it guarded is broken. currSize counts
// bytes that were never stored, the cache refuses data it has room for, and
// nothing will ever correct it. The poison:
//
//	go run ./4_panic-safety/halfdone &
//	curl -X PUT --data-binary w 127.0.0.1:8000/cache/watch
//	curl -X PUT --data-binary i 127.0.0.1:8000/cache/it
//	curl -X PUT --data-binary abc 127.0.0.1:8000/cache/burn    # curl: (52) Empty reply from server
//	curl 127.0.0.1:8000/stats    # {"max_size":5,"curr_size":5,"actual_size":2}
//	kill %1                      # stops go run and the server with it
//
// Prove it: go test ./4_panic-safety/halfdone
//
// Unlocking on a panic is not enough: ../deadlock is what happens without
// the defer, and this is what happens with it.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"

	"concurrencylab/internal/server"
)

// Limits on a request.
const (
	maxKeyBytes   = 128
	maxValueBytes = 1 << 10
)

func main() {
	maxSize := flag.Int("max-size", 5, "the most bytes the cache holds")
	cfg := server.Flags(flag.CommandLine)
	flag.Parse()
	if *maxSize < 0 {
		fmt.Fprintln(os.Stderr, "-max-size must not be negative")
		os.Exit(2)
	}
	server.MainWithConfig(*cfg, newHandler(newByteCache(*maxSize)))
}

// newHandler routes the cache API to c.
func newHandler(c *byteCache) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /cache/{key}", func(w http.ResponseWriter, r *http.Request) {
		key := r.PathValue("key")
		if len(key) > maxKeyBytes {
			http.Error(w, fmt.Sprintf("key over %d bytes", maxKeyBytes), http.StatusBadRequest)
			return
		}
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxValueBytes))
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			http.Error(w, fmt.Sprintf("value over %d bytes", maxValueBytes), http.StatusRequestEntityTooLarge)
			return
		}
		if err != nil {
			http.Error(w, "reading the value: "+err.Error(), http.StatusBadRequest)
			return
		}
		switch err := c.put(key, data); { // the poison: key "burn"
		case errors.Is(err, errKeyExists):
			http.Error(w, err.Error(), http.StatusConflict)
		case errors.Is(err, errCacheFull):
			http.Error(w, err.Error(), http.StatusInsufficientStorage)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, "stored\n")
		}
	})
	mux.HandleFunc("GET /cache/{key}", func(w http.ResponseWriter, r *http.Request) {
		data, ok := c.get(r.PathValue("key"))
		if !ok {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(data)
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(c.stats())
	})
	return mux
}
