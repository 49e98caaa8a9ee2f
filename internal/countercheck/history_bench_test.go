//go:build lab

package countercheck

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"concurrencylab/internal/counterapi"
	"concurrencylab/internal/scenario"
)

// BenchmarkCheckHistory times the check alone on a history the phase
// recorded: against an exact store (linearizable) and against one whose
// reads come from a copy kept 100 ms (not linearizable). The target is
// under a second per version on 2 cores:
//
//	go test -tags lab -run '^$' -bench CheckHistory -count 5 ./internal/countercheck
func BenchmarkCheckHistory(b *testing.B) {
	for _, tc := range []struct {
		name  string
		store counterapi.Store
		want  any
	}{
		{"exact", &mutexStore{counters: counterapi.InitialCounters()}, Linearizable},
		{"stale", &staleStore{mutexStore: mutexStore{counters: counterapi.InitialCounters()}, copies: map[string]copied{}}, NotLinearizable},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ts := httptest.NewServer(counterapi.NewHandler(tc.store))
			defer ts.Close()
			r, err := record(context.Background(), &scenario.Target{URL: ts.URL, Client: ts.Client()})
			require.NoError(b, err)
			for b.Loop() {
				check := CheckHistory(r.ops, historyLimit)
				if check.Outcome != tc.want {
					b.Fatalf("outcome %v, want %v", check.Outcome, tc.want)
				}
			}
			b.ReportMetric(float64(len(r.ops)), "ops/history")
		})
	}
}

// staleStore is mutexStore whose reads come from a copy kept 100 ms, as
// 5_redis/counter -read cache does.
type staleStore struct {
	mutexStore
	mu     sync.Mutex // guards copies
	copies map[string]copied
}

type copied struct {
	val   int64
	until time.Time
}

func (s *staleStore) Get(ctx context.Context, name string) (int64, error) {
	s.mu.Lock()
	cp, ok := s.copies[name]
	s.mu.Unlock()
	if ok && time.Now().Before(cp.until) {
		return cp.val, nil
	}
	val, err := s.mutexStore.Get(ctx, name)
	if err == nil {
		s.mu.Lock()
		s.copies[name] = copied{val: val, until: time.Now().Add(100 * time.Millisecond)}
		s.mu.Unlock()
	}
	return val, err
}
