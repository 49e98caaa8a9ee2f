// Command counter is the mutex counter store (2_mutex/counter) with a latent
// bug, served behind crash-on-panic middleware (4_panic-safety/crashonpanic).
//
// A LATENT BUG, ON PURPOSE: a counter's name may end in a place, "hits@home",
// and the store folds the place's first letter to lower case
// (4_panic-safety/place), so that "hits@Home" is the same counter. A name
// with an empty place, "hits@", panics inside the critical section: slice
// bounds out of range [:1]. The poison:
//
//	go run ./4_panic-safety/counter &
//	curl '127.0.0.1:8000/set?name=hits@&val=1'
//	kill %1    # if it still runs: stops go run and the server with it
//
// net/http would recover that panic and keep serving from whatever state
// the critical section had reached. Instead the middleware logs the panic
// and its stack and exits with status 70, and a supervisor (see
// docs/counter.service) starts a clean process. Prove it, child process,
// exit code, restart and all: go test ./4_panic-safety/counter
//
// Compare with the mutex version, which has no poison and no middleware:
// diff 2_mutex/counter 4_panic-safety/counter.
package main

import (
	"context"
	"sync"

	"concurrencylab/4_panic-safety/place"
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
	s.counters[place.Fold(name)] = val
	return nil
}

func (s *Store) Get(_ context.Context, name string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	val, ok := s.counters[place.Fold(name)]
	if !ok {
		return 0, counterapi.ErrNotFound
	}
	return val, nil
}

func (s *Store) Inc(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := place.Fold(name)
	val, ok := s.counters[k]
	if !ok {
		return counterapi.ErrNotFound
	}
	next, err := counterapi.Increment(val)
	if err != nil {
		return err
	}
	s.counters[k] = next
	return nil
}
