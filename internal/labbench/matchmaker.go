package labbench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"concurrencylab/internal/matchapi"
)

// Matchmaker measures how many pairs a matchmaker makes per second,
// called directly (no HTTP), with 2, 64 and 512 clients joining at once,
// each joining again as soon as it is paired. One op is one pair; the
// pairs/s metric is the same figure the other way up. newMatchmaker starts
// a fresh matchmaker for each run and registers its cleanup on b.
func Matchmaker(b *testing.B, newMatchmaker func(b *testing.B) matchapi.Matchmaker) {
	for _, clients := range []int{2, 64, 512} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			m := newMatchmaker(b)
			ctx := context.Background()
			var joinsLeft atomic.Int64 // two per pair; a client takes one before each join
			joinsLeft.Store(2 * int64(b.N))
			b.ResetTimer()

			var wg sync.WaitGroup
			for range clients {
				wg.Go(func() {
					for joinsLeft.Add(-1) >= 0 {
						if _, err := m.Join(ctx, "client"); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
		})
	}
}
