// Package atomicstore keeps each counter in its own atomic.Int64, so a Get
// or an Inc of an existing counter never takes a lock on the value: Get is
// one atomic load, Inc a CompareAndSwap loop.
//
// The map from names to counters still needs guarding, because Set can add
// a name while others look names up. A sync.RWMutex guards it, and the rule
// that makes the rest lock-free is that an entry, once in the map, is never
// replaced or removed: Set of an existing name stores into its atomic.Int64.
// So a *atomic.Int64 looked up under the read lock stays the counter's for
// good, and can be used after the lock is released.
//
// WHEN IT WINS: when callers look a counter up once and keep the pointer,
// as metrics libraries do; then an Inc is one CompareAndSwap (one atomic
// add, if overflow did not matter) and no lock at all.
//
// WHEN IT DOESN'T: here every call looks the name up by string, under the
// read lock, and RLock and RUnlock each write a word that
// every caller shares. So a Get is two atomic writes and a load, an Inc two
// atomic writes and a CompareAndSwap, where the mutex store does a Lock and
// an Unlock: more atomic work, not less (see benchmarks/README.md). And one
// hot counter is still one word that every core fights over: under
// contention Inc's CompareAndSwap fails and retries. (A sync.Map in place of
// the RWMutex would make the lookup write nothing shared; the syncmap store
// shows what its reads cost.)
package atomicstore

import (
	"context"
	"sync"
	"sync/atomic"

	"concurrencylab/internal/counterapi"
)

// Store holds one atomic.Int64 per counter.
type Store struct {
	mu       sync.RWMutex             // guards the counters map itself, not the values
	counters map[string]*atomic.Int64 // read with mu.RLock, written with mu.Lock; entries are never replaced or removed
}

// NewStore returns a store holding counterapi.InitialCounters.
func NewStore() *Store {
	s := &Store{counters: make(map[string]*atomic.Int64)}
	for name, val := range counterapi.InitialCounters() {
		c := new(atomic.Int64)
		c.Store(val)
		s.counters[name] = c
	}
	return s
}

// counter returns name's counter, or nil if there is none.
func (s *Store) counter(name string) *atomic.Int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.counters[name]
}

func (s *Store) Set(_ context.Context, name string, val int64) error {
	if c := s.counter(name); c != nil {
		c.Store(val)
		return nil
	}
	// A new name: take the write lock, and look again, because another Set
	// may have created the name since the read lock was released. Creating
	// it twice would lose whatever the other callers did to the first one.
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.counters[name]
	if !ok {
		c = new(atomic.Int64)
		s.counters[name] = c
	}
	c.Store(val)
	return nil
}

func (s *Store) Get(_ context.Context, name string) (int64, error) {
	c := s.counter(name)
	if c == nil {
		return 0, counterapi.ErrNotFound
	}
	return c.Load(), nil
}

// Inc cannot use c.Add(1): Add cannot refuse, and at math.MaxInt64 it would
// wrap to math.MinInt64. Instead it reads the value, works out the next one,
// and writes it only if the counter still holds what it read; if another
// goroutine got there first, it tries again with the new value.
func (s *Store) Inc(_ context.Context, name string) error {
	c := s.counter(name)
	if c == nil {
		return counterapi.ErrNotFound
	}
	for {
		val := c.Load()
		next, err := counterapi.Increment(val)
		if err != nil {
			return err // at math.MaxInt64: nothing written
		}
		if c.CompareAndSwap(val, next) {
			return nil
		}
	}
}
