//go:build lab

package redislab

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var incr = redis.NewScript(`return redis.call('INCR', KEYS[1])`)

// embedded starts an embedded Redis for one test and a client of it that
// batches its scripts, as BatchScripts does, with the batcher.
func embedded(t *testing.T) (*Server, *redis.Client, *scriptBatcher) {
	t.Helper()
	rs, err := Start(t.Context(), Embedded, "")
	require.NoError(t, err)
	t.Cleanup(rs.Close)
	rdb := rs.Client()
	t.Cleanup(func() { rdb.Close() })
	b := &scriptBatcher{rdb: rdb}
	rdb.AddHook(b)
	return rs, rdb, b
}

// pipelineGate holds the first pipeline until release is closed, and
// counts the pipelines sent.
type pipelineGate struct {
	sent    atomic.Int32
	release chan struct{}
}

func (g *pipelineGate) DialHook(next redis.DialHook) redis.DialHook { return next }
func (g *pipelineGate) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return next
}
func (g *pipelineGate) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if g.sent.Add(1) == 1 {
			<-g.release
		}
		return next(ctx, cmds)
	}
}

// TestScriptsWaitingGoTogether holds the first script's pipeline while the
// others arrive: they all go in the second, and each caller gets its own
// script's reply.
func TestScriptsWaitingGoTogether(t *testing.T) {
	_, rdb, b := embedded(t)
	require.NoError(t, incr.Load(t.Context(), rdb).Err())
	gate := &pipelineGate{release: make(chan struct{})}
	rdb.AddHook(gate)

	const callers = 20
	got := make([]int64, callers)
	var wg sync.WaitGroup
	wg.Go(func() { got[0] = mustRun(t, rdb, "k0") })
	require.Eventually(t, func() bool { return gate.sent.Load() == 1 }, 5*time.Second, time.Millisecond)
	for i := 1; i < callers; i++ {
		wg.Go(func() { got[i] = mustRun(t, rdb, "k"+string(rune('a'+i))) })
	}
	require.Eventually(t, func() bool { return b.waitingLen() == callers-1 }, 5*time.Second, time.Millisecond)
	close(gate.release)
	wg.Wait()

	assert.EqualValues(t, 2, gate.sent.Load(), "the waiting scripts went in one pipeline")
	for i, v := range got {
		assert.EqualValues(t, 1, v, "caller %d's own key, incremented once", i)
	}
}

// TestManyScriptsCountEvery sends scripts from many goroutines at once on
// one key: every increment is counted once.
func TestManyScriptsCountEvery(t *testing.T) {
	_, rdb, _ := embedded(t)
	const callers, each = 20, 25
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for range each {
				mustRun(t, rdb, "n")
			}
		})
	}
	wg.Wait()
	n, err := rdb.Get(t.Context(), "n").Int()
	require.NoError(t, err)
	assert.Equal(t, callers*each, n)
}

// TestScriptRedisForgot: after SCRIPT FLUSH (or a restart), EVALSHA's
// NOSCRIPT reaches redis.Script.Run, which sends the source.
func TestScriptRedisForgot(t *testing.T) {
	_, rdb, _ := embedded(t)
	mustRun(t, rdb, "f")
	require.NoError(t, rdb.ScriptFlush(t.Context()).Err())
	assert.EqualValues(t, 2, mustRun(t, rdb, "f"))
}

// TestScriptRedisGone: with Redis stopped, a script fails with an error
// within the client's timeouts, and the next one after Redis is back runs.
func TestScriptRedisGone(t *testing.T) {
	rs, rdb, _ := embedded(t)
	mustRun(t, rdb, "g")
	require.NoError(t, rs.Stop())
	start := time.Now()
	err := incr.Run(t.Context(), rdb, []string{"g"}).Err()
	require.Error(t, err)
	assert.Less(t, time.Since(start), 3*dialTimeout, "an error in about a second")
	require.NoError(t, rs.Restart(t.Context()))
	require.Eventually(t, func() bool { return incr.Run(t.Context(), rdb, []string{"g"}).Err() == nil }, 5*time.Second, 10*time.Millisecond)
}

// TestScriptCallerGone: a caller whose context ends stops waiting; the
// others in its batch still get their replies.
func TestScriptCallerGone(t *testing.T) {
	_, rdb, b := embedded(t)
	require.NoError(t, incr.Load(t.Context(), rdb).Err())
	gate := &pipelineGate{release: make(chan struct{})}
	rdb.AddHook(gate)

	var wg sync.WaitGroup
	wg.Go(func() { mustRun(t, rdb, "first") })
	require.Eventually(t, func() bool { return gate.sent.Load() == 1 }, 5*time.Second, time.Millisecond)
	ctx, cancel := context.WithCancel(t.Context())
	gone := make(chan error, 1)
	go func() { gone <- incr.Run(ctx, rdb, []string{"x"}).Err() }()
	wg.Go(func() { assert.EqualValues(t, 1, mustRun(t, rdb, "y")) })
	require.Eventually(t, func() bool { return b.waitingLen() == 2 }, 5*time.Second, time.Millisecond)
	cancel()
	assert.ErrorIs(t, <-gone, context.Canceled)
	close(gate.release)
	wg.Wait()
}

func mustRun(t *testing.T, rdb *redis.Client, key string) int64 {
	v, err := incr.Run(context.Background(), rdb, []string{key}).Int64()
	assert.NoError(t, err)
	return v
}

// waitingLen is how many scripts wait for the next pipeline.
func (b *scriptBatcher) waitingLen() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.waiting == nil {
		return 0
	}
	return len(b.waiting.cmds)
}
