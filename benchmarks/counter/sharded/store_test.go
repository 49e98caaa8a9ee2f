package shardedstore

import (
	"testing"

	"concurrencylab/internal/counterapi"
	"concurrencylab/internal/labtest"
)

func TestCounter(t *testing.T) {
	labtest.CounterSuite(t, counterapi.NewHandler(NewStore()))
}

func BenchmarkStore(b *testing.B) {
	labtest.BenchmarkCounterStore(b, func() counterapi.Store { return NewStore() }, labtest.SerialAndParallel)
}
