// Package syncmapstore keeps the counters in a sync.Map, the standard
// library's concurrent map, and uses nothing else: no mutex, no atomics of
// its own.
//
// A sync.Map makes each Load and each Store safe, but not a Load followed by
// a Store: two Incs can both load 5 and both store 6, a lost update. So Inc
// uses the map's own CompareAndSwap, which stores the new value only if the
// old one is still there, and tries again if not.
//
// Why int64 values and CompareAndSwap, and not *atomic.Int64 values (one
// LoadOrStore per name, then atomics)? With atomic values the map would only
// ever be read after a counter's creation, and this would be the atomic store
// (benchmarks/counter/atomic) with a different lock-free map, measuring the
// atomics rather than sync.Map. Kept as plain values, it shows what sync.Map
// itself costs when every Inc writes to it. The price shows in -benchmem:
// each Inc allocates twice, once to box the int64 in an interface (any value
// past 255) and once for the map's new entry, because sync.Map never changes
// an entry in place, it replaces it.
//
// WHEN IT WINS: the sync.Map documentation names two cases, keys written
// once and then read many times, and goroutines working on disjoint sets of
// keys. A Load writes nothing shared, so reads on many cores do not slow
// each other down. WHEN IT DOESN'T: keys that are rewritten all the time,
// like one hot counter, where every write allocates and contended
// CompareAndSwaps retry; and the map is untyped, so every value comes back
// as an any to be asserted.
package syncmapstore

import (
	"context"
	"sync"

	"concurrencylab/internal/counterapi"
)

// Store holds the counters in a sync.Map.
type Store struct {
	counters sync.Map // name (string) → value (int64); guards itself
}

// NewStore returns a store holding counterapi.InitialCounters.
func NewStore() *Store {
	s := &Store{}
	for name, val := range counterapi.InitialCounters() {
		s.counters.Store(name, val)
	}
	return s
}

func (s *Store) Set(_ context.Context, name string, val int64) error {
	s.counters.Store(name, val)
	return nil
}

func (s *Store) Get(_ context.Context, name string) (int64, error) {
	v, ok := s.counters.Load(name)
	if !ok {
		return 0, counterapi.ErrNotFound
	}
	return v.(int64), nil
}

// Inc loads the value, works out the next one, and stores it only if the
// map still holds what it loaded; if another goroutine got there first, it
// tries again with the new value.
func (s *Store) Inc(_ context.Context, name string) error {
	for {
		v, ok := s.counters.Load(name)
		if !ok {
			return counterapi.ErrNotFound
		}
		next, err := counterapi.Increment(v.(int64))
		if err != nil {
			return err // at math.MaxInt64: nothing written
		}
		if s.counters.CompareAndSwap(name, v, next) {
			return nil
		}
	}
}
