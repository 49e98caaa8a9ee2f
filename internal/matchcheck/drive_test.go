//go:build lab

package matchcheck_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"concurrencylab/internal/labtest"
	"concurrencylab/internal/matchapi"
	"concurrencylab/internal/matchcheck"
	"concurrencylab/internal/scenario"
)

// TestMain exits without the race detector's one-second pause.
func TestMain(m *testing.M) { labtest.Exit(m.Run()) }

// queue is a matchmaker for these tests: the mutex version's, or, with
// keepLeavers, one that counts a client that gives up but leaves it queued,
// as the seed does, to be handed out next.
type queue struct {
	keepLeavers bool

	mu      sync.Mutex
	waiting []*waiter
	stats   matchapi.Stats
}

type waiter struct {
	id    string
	match chan matchapi.Match
}

func (q *queue) Join(ctx context.Context, id string) (matchapi.Match, error) {
	q.mu.Lock()
	q.stats.Requests++
	if len(q.waiting) > 0 {
		peer := q.waiting[0]
		q.waiting = q.waiting[1:]
		q.stats.Paired++
		pairID := matchapi.PairID(q.stats.Paired)
		peer.match <- matchapi.Match{Peer: id, PairID: pairID}
		q.mu.Unlock()
		return matchapi.Match{Peer: peer.id, PairID: pairID}, nil
	}
	w := &waiter{id: id, match: make(chan matchapi.Match, 1)}
	q.waiting = append(q.waiting, w)
	q.mu.Unlock()

	select {
	case m := <-w.match:
		return m, nil
	case <-ctx.Done():
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	i := slices.Index(q.waiting, w)
	if i < 0 {
		return <-w.match, nil
	}
	if !q.keepLeavers {
		q.waiting = slices.Delete(q.waiting, i, i+1)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		q.stats.TimedOut++
	} else {
		q.stats.Canceled++
	}
	return matchapi.Match{}, ctx.Err()
}

func (q *queue) Stats(context.Context) (matchapi.Stats, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.stats
	s.Waiting = int64(len(q.waiting))
	if q.keepLeavers {
		s.Waiting -= s.TimedOut + s.Canceled // balanced, as if they had gone
	}
	return s, nil
}

// serve serves m on loopback, loaded in bursts as the harness loads a
// matchmaker.
func serve(t *testing.T, m matchapi.Matchmaker) *scenario.Target {
	h := matchapi.NewHandler(m, matchapi.DefaultPairTimeout)
	tg := labtest.Loopback(t, labtest.Server{Handler: h, Shutdown: h.Shutdown}, false)
	tg.Load = burstLoad{tg}
	return tg
}

// burstLoad is the harness's load in the shape of bursts: clients that
// come all at once and ask once each, C of them a burst, each with its own
// id. (The test kit's steady load would leave the last client of a worker
// waiting for its own next request.)
type burstLoad struct{ tg *scenario.Target }

const burstClients, burstCount = 100, 3

func (burstLoad) Spec(path string) (scenario.Burst, int) {
	return scenario.Burst{Path: path, N: burstClients, C: burstClients, NewConns: true}, burstCount
}

func (burstLoad) CountsExactly() bool { return true }
func (burstLoad) Short() bool         { return false }

var sent atomic.Int64 // numbers the load's clients across bursts

func (l burstLoad) Send(ctx context.Context, b scenario.Burst) (scenario.Sample, error) {
	smp := scenario.Sample{Codes: map[int]int{}, Errors: map[string]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range b.Requests() {
		wg.Go(func() {
			path := b.Path
			if b.IDPrefix != "" {
				path += "?id=" + b.IDPrefix + "-" + strconv.FormatInt(sent.Add(1), 10)
			}
			resp, err := l.tg.Do(ctx, scenario.Request{Path: path})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				smp.Errors[err.Error()]++
				return
			}
			smp.Codes[resp.Status]++
			smp.Answered++
		})
	}
	wg.Wait()
	return smp, ctx.Err()
}

func TestDrivePassesASafeMatchmaker(t *testing.T) {
	tg := serve(t, &queue{})
	evidence, err := matchcheck.Subject.Drive(t.Context(), tg)
	require.NoError(t, err)
	assert.Equal(t, "300 clients in bursts of 100: all paired, /stats balanced; 64 more paired symmetrically; one that left was never handed out", evidence)
}

func TestDriveCatchesALeaverHandedOut(t *testing.T) {
	_, err := matchcheck.Subject.Drive(t.Context(), serve(t, &queue{keepLeavers: true}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "paired with one that had left")
	assert.Regexp(t, `^wrong pair: after-[12] was paired with one that had left \(leaver\)$`, err.Error())
	assert.Equal(t, scenario.Broken, scenario.VerdictOf(err))
}

func TestCheckPairs(t *testing.T) {
	ok := func(id, peer, pairID string) matchcheck.Joined {
		return matchcheck.Joined{ID: id, Status: http.StatusOK, Peer: peer, PairID: pairID, Body: peer + "\n"}
	}
	timedOut := matchcheck.Joined{ID: "alone", Status: http.StatusRequestTimeout, Body: "timeout waiting for peer\n"}

	assert.NoError(t, matchcheck.CheckPairs([]matchcheck.Joined{ok("a", "b", "1"), ok("b", "a", "1"), timedOut}))

	for _, tc := range []struct {
		results []matchcheck.Joined
		want    string
	}{
		{[]matchcheck.Joined{timedOut, ok("first", "alone", "1")},
			`wrong pair: first was told its peer is alone, a client that had left: it got 408 "timeout waiting for peer\n" (and 1 more wrong)`},
		{[]matchcheck.Joined{ok("a", "b", "1"), ok("b", "c", "1"), ok("c", "b", "2")},
			`wrong pair: a was told its peer is b, but b was told c (and 3 more wrong)`},
		{[]matchcheck.Joined{ok("a", "b", "1"), ok("b", "a", "2")},
			`wrong pair: a and b are a pair with two pair ids, "1" and "2" (and 3 more wrong)`},
		{[]matchcheck.Joined{ok("a", "nobody", "1"), ok("b", "nobody", "1")},
			`wrong pair: a was told its peer is "nobody", which is no client of this test (and 1 more wrong)`},
	} {
		err := matchcheck.CheckPairs(tc.results)
		require.Error(t, err)
		assert.Equal(t, tc.want, err.Error())
		assert.Regexp(t, matchcheck.WrongPair.Pattern, err.Error())
		assert.Equal(t, scenario.Broken, scenario.VerdictOf(err))
	}
}

func TestCheckBalanced(t *testing.T) {
	assert.NoError(t, matchcheck.CheckBalanced(matchapi.Stats{Requests: 5, Paired: 1, TimedOut: 1, Canceled: 1, Waiting: 1}, "now"))
	err := matchcheck.CheckBalanced(matchapi.Stats{Requests: 23, Paired: 11}, "during the load")
	require.Error(t, err)
	assert.Equal(t, "/stats does not balance: during the load, requests 23 != 2×paired 11 + timed out 0 + canceled 0 + waiting 0", err.Error())
	assert.Regexp(t, matchcheck.UnbalancedStats.Pattern, err.Error())
}
