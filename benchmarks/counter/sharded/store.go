// Package shardedstore splits the counters over several maps, the shards,
// each behind its own sync.Mutex. A name always hashes to the same shard, so
// each operation locks one shard and leaves the others free: calls on
// counters in different shards do not wait for each other.
//
// WHEN IT WINS: many goroutines working on many different counters, where a
// single mutex would make them all queue. WHEN IT DOESN'T: one hot counter.
// Every call on that name goes to the same shard and its one mutex, so it is
// the mutex store plus the cost of hashing the name. The benchmark
// (labbench.CounterStore) hammers exactly one counter, "i", so
// sharding cannot help there, and that is the lesson: sharding spreads
// contention across keys; it does nothing for contention on one key.
//
// (A further lesson, not shown by this benchmark: a shard is 16 bytes, a
// mutex and a map pointer, and the shards sit side by side in one array, so
// four share a 64-byte cache line. Cores locking neighbouring shards still
// pass that line back and forth, "false sharing". Padding each shard to a
// cache line is the usual fix, once a benchmark over many keys shows that it
// is worth it.)
package shardedstore

import (
	"context"
	"hash/maphash"
	"sync"

	"concurrencylab/internal/counterapi"
)

// numShards is the number of shards: a few times the cores of a typical
// machine, so that two busy names rarely share a shard.
const numShards = 16

// shard is one part of the store: a map and the mutex that guards it.
type shard struct {
	mu       sync.Mutex       // guards counters
	counters map[string]int64 // read and written only with mu held
}

// Store holds the counters in numShards shards.
type Store struct {
	seed   maphash.Seed     // chosen by NewStore, never written after, so needs no lock
	shards [numShards]shard // each shard guards its own map
}

// NewStore returns a store holding counterapi.InitialCounters.
func NewStore() *Store {
	s := &Store{seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].counters = make(map[string]int64)
	}
	for name, val := range counterapi.InitialCounters() {
		s.shard(name).counters[name] = val // no other goroutine has s yet
	}
	return s
}

// shard returns the shard that holds name, always the same one for a name.
func (s *Store) shard(name string) *shard {
	return &s.shards[maphash.String(s.seed, name)%numShards]
}

func (s *Store) Set(_ context.Context, name string, val int64) error {
	sh := s.shard(name)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.counters[name] = val
	return nil
}

func (s *Store) Get(_ context.Context, name string) (int64, error) {
	sh := s.shard(name)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	val, ok := sh.counters[name]
	if !ok {
		return 0, counterapi.ErrNotFound
	}
	return val, nil
}

func (s *Store) Inc(_ context.Context, name string) error {
	sh := s.shard(name)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	val, ok := sh.counters[name]
	if !ok {
		return counterapi.ErrNotFound
	}
	next, err := counterapi.Increment(val)
	if err != nil {
		return err
	}
	sh.counters[name] = next
	return nil
}
