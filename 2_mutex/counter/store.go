// Command counter serves named counters over HTTP (/set, /get, /inc) from a
// map guarded by a sync.Mutex.
//
// SAFE: every method holds the mutex for the whole of its read-check-write,
// so each operation is one critical section and no update is lost. Prove it:
//
//	go test -race ./2_mutex/counter
//
// or run it and hammer it: the count comes out exact.
//
//	go run ./2_mutex/counter &
//	go tool hey -n 20000 -c 200 "http://127.0.0.1:8000/inc?name=i"
//	curl "127.0.0.1:8000/get?name=i"    # i: 20000
//	kill %1                             # stops go run and the server with it
//
// Compare with the naive version: diff 1_naive-race/counter 2_mutex/counter.
package main

import (
	"context"
	"sync"

	"concurrencylab/internal/counterapi"
)

// Store holds the counters behind a mutex.
type Store struct {
	mu       sync.Mutex       // guards counters
	counters map[string]int64 // read and written only with mu held
}

// NewStore returns a store holding counterapi.InitialCounters.
func NewStore() *Store {
	return &Store{counters: counterapi.InitialCounters()}
}

func (s *Store) Set(_ context.Context, name string, val int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counters[name] = val
	return nil
}

func (s *Store) Get(_ context.Context, name string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	val, ok := s.counters[name]
	if !ok {
		return 0, counterapi.ErrNotFound
	}
	return val, nil
}

func (s *Store) Inc(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
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
