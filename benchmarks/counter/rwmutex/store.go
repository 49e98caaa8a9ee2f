// Package rwmutexstore is the mutex counter store (2_mutex/counter) with a
// sync.RWMutex in place of the sync.Mutex: Get takes the read lock, so any
// number of Gets can run at once; Set and Inc take the write lock, one at a
// time, and wait for the readers to leave.
//
// WHEN IT WINS: many readers, few writers, and a critical section long
// enough that letting readers overlap is worth more than the lock's own
// cost. WHEN IT DOESN'T: here the critical section is one map lookup, and
// RLock and RUnlock are each an atomic add on a word every reader shares, so
// readers on different cores still fight over that word's cache line, and
// the measured Get is no faster than the Mutex's (see benchmarks/README.md).
// Inc is a write, so it gets nothing from the read lock and pays more than
// with a plain Mutex: an RWMutex's Lock and Unlock are a Mutex's plus an
// atomic add each, to shut the readers out and let them back in.
//
// Compare with the mutex version: diff 2_mutex/counter/store.go
// benchmarks/counter/rwmutex/store.go.
package rwmutexstore

import (
	"context"
	"sync"

	"concurrencylab/internal/counterapi"
)

// Store holds the counters behind a read-write mutex.
type Store struct {
	mu       sync.RWMutex     // guards counters
	counters map[string]int64 // read with mu.RLock held, written with mu.Lock held
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

// Get only reads, so it takes the read lock: Gets do not wait for each
// other, only for a Set or Inc in progress.
func (s *Store) Get(_ context.Context, name string) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	val, ok := s.counters[name]
	if !ok {
		return 0, counterapi.ErrNotFound
	}
	return val, nil
}

// Inc reads, checks and writes, and all three must be one step, so it takes
// the write lock for the whole of them. (An RLock for the read and a Lock for
// the write would let two Incs read the same value: a lost update.)
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
