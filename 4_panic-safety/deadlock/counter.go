package main

import (
	"context"
	"sync"

	"concurrencylab/4_panic-safety/place"
	"concurrencylab/internal/counterapi"
)

// counterStore is the mutex counter store (2_mutex/counter) as it is often
// written, unlocking at the end instead of with defer, and with the lab's
// latent bug (4_panic-safety/place). It serves the counter contract on the
// same port, so that the poison that makes 4_panic-safety/counter exit,
// /set?name=hits@&val=1, can be sent here too.
//
// BROKEN ON PURPOSE: place.Fold panics with mu held, and no Unlock runs.
type counterStore struct {
	mu       sync.Mutex       // guards counters
	counters map[string]int64 // read and written only with mu held
}

func newCounterStore() *counterStore {
	return &counterStore{counters: counterapi.InitialCounters()}
}

func (s *counterStore) Set(_ context.Context, name string, val int64) error {
	s.mu.Lock()
	s.counters[place.Fold(name)] = val
	s.mu.Unlock()
	return nil
}

func (s *counterStore) Get(_ context.Context, name string) (int64, error) {
	s.mu.Lock()
	val, ok := s.counters[place.Fold(name)]
	s.mu.Unlock()
	if !ok {
		return 0, counterapi.ErrNotFound
	}
	return val, nil
}

func (s *counterStore) Inc(_ context.Context, name string) error {
	s.mu.Lock()
	k := place.Fold(name)
	val, ok := s.counters[k]
	if !ok {
		s.mu.Unlock()
		return counterapi.ErrNotFound
	}
	next, err := counterapi.Increment(val)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	s.counters[k] = next
	s.mu.Unlock()
	return nil
}
