package labtest

import (
	"context"
	"net/http"
	"sync"
	"time"

	"concurrencylab/internal/scenario"
)

// The test kit's load, for a scenario under load: loadWorkers clients send
// loadRequests requests in all, at once, over keep-alive connections.
// Without -race it is the seed's own load (ab -n 20000 -c 200), enough for
// the runtime's map check to kill the naive counter every time. The race
// detector needs only two requests that overlap, and it slows every
// request several times over, so under -race the load is a tenth of that.
var loadWorkers, loadRequests = testLoad()

func testLoad() (workers, requests int) {
	if RaceEnabled {
		return 50, 2000
	}
	return 200, 20000
}

// goroutineLoad sends bursts from goroutines of this process, as hey does,
// counting every answer.
type goroutineLoad struct {
	tg                *scenario.Target
	workers, requests int
}

func newLoad(tg *scenario.Target) scenario.Load { return goroutineLoad{tg, loadWorkers, loadRequests} }

// LighterLoad is the test kit's load with fewer workers and requests, for a
// target whose every request costs a round trip to another server (Redis):
// the race detector has nothing to see there, and a lost update needs only
// two clients at once.
func LighterLoad(tg *scenario.Target, workers, requests int) scenario.Load {
	return goroutineLoad{tg, workers, requests}
}

func (l goroutineLoad) Spec(path string) (scenario.Burst, int) {
	return scenario.Burst{Path: path, N: l.requests, C: l.workers}, 1
}

func (goroutineLoad) CountsExactly() bool { return true }
func (goroutineLoad) Short() bool         { return false }

// Send has each of b.C goroutines send its share of b's requests, one after
// another, and counts the answers by status and the failures by error.
func (l goroutineLoad) Send(ctx context.Context, b scenario.Burst) (scenario.Sample, error) {
	smp := scenario.Sample{Codes: map[int]int{}, Errors: map[string]int{}}
	var mu sync.Mutex // guards smp's maps
	start := time.Now()
	var wg sync.WaitGroup
	for range b.C {
		wg.Go(func() {
			for range b.N / b.C {
				resp, err := l.tg.Do(ctx, scenario.Request{Method: b.Method, Path: b.Path, Body: string(b.Body),
					Header: http.Header{"Content-Type": {b.ContentType}}})
				mu.Lock()
				if err != nil {
					smp.Errors[err.Error()]++
				} else {
					smp.Codes[resp.Status]++
					smp.Answered++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	smp.Total = time.Since(start)
	return smp, ctx.Err()
}

// RaceEnabled reports whether this test binary was built with -race.
const RaceEnabled = scenario.RaceEnabled
