// Command counter serves named counters over HTTP (/set, /get, /inc) from a
// plain map that every handler goroutine reads and writes at once.
//
// BROKEN ON PURPOSE: this is the seed's first version. net/http runs each
// request in its own goroutine, and a Go map is not safe for concurrent use,
// so concurrent increments corrupt the map: the runtime kills the process with
// "fatal error: concurrent map writes", and the race detector reports
// "WARNING: DATA RACE" on the first two requests that overlap. See it with:
//
//	go run ./1_naive-race/counter &
//	go tool hey -n 20000 -c 200 "http://127.0.0.1:8000/inc?name=i"
//	kill %1    # if it survived: stops go run and the server with it
//
// The fix adds a mutex and nothing else: diff 1_naive-race/counter 2_mutex/counter.
package main

import (
	"context"

	"concurrencylab/internal/counterapi"
)

// Store holds the counters with no synchronization at all.
type Store struct {
	counters map[string]int64 // shared by every handler goroutine: the bug
}

// NewStore returns a store holding counterapi.InitialCounters.
func NewStore() *Store {
	return &Store{counters: counterapi.InitialCounters()}
}

func (s *Store) Set(_ context.Context, name string, val int64) error {
	s.counters[name] = val
	return nil
}

func (s *Store) Get(_ context.Context, name string) (int64, error) {
	val, ok := s.counters[name]
	if !ok {
		return 0, counterapi.ErrNotFound
	}
	return val, nil
}

func (s *Store) Inc(_ context.Context, name string) error {
	val, ok := s.counters[name]
	if !ok {
		return counterapi.ErrNotFound
	}
	next, err := counterapi.Increment(val)
	if err != nil {
		return err
	}
	s.counters[name] = next
	return nil
}

// Close stops nothing: the seed starts no goroutine. A fix that starts
// one, an owner that holds the map, stops it here (see
// docs/exercises/counter.md); the tests call Close when they are done
// with a store.
func (s *Store) Close() {}
