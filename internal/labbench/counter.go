// Package labbench benchmarks the subjects' versions: the counter stores
// and the matchmakers called directly, without HTTP, and the notifiers'
// fan-out over real websockets. Each version's test file calls these with
// a factory that starts the version and registers its own cleanup.
package labbench

import (
	"context"
	"testing"

	"concurrencylab/internal/counterapi"
)

// BenchMode says whether a store may be benchmarked from many goroutines.
type BenchMode int

const (
	SerialOnly        BenchMode = iota // the naive store: it crashes in parallel
	SerialAndParallel                  // the safe stores
)

// CounterStore measures a store's operations directly, without
// HTTP: one goroutine at a time ("serial"), the cost of the synchronization
// alone, and with b.RunParallel ("parallel", GOMAXPROCS goroutines at once
// on one counter, set with -cpu), its cost under contention. newStore starts
// a fresh store for each run and registers its cleanup on b.
func CounterStore(b *testing.B, newStore func(b *testing.B) counterapi.Store, mode BenchMode) {
	ctx := context.Background()
	ops := []struct {
		name string
		op   func(counterapi.Store) error
	}{
		{"Inc", func(s counterapi.Store) error { return s.Inc(ctx, "i") }},
		{"Get", func(s counterapi.Store) error { _, err := s.Get(ctx, "i"); return err }},
	}
	for _, o := range ops {
		b.Run(o.name+"/serial", func(b *testing.B) {
			s := newStore(b)
			for b.Loop() {
				if err := o.op(s); err != nil {
					b.Fatal(err)
				}
			}
		})
		if mode == SerialOnly {
			continue
		}
		b.Run(o.name+"/parallel", func(b *testing.B) {
			s := newStore(b)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := o.op(s); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
