package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"concurrencylab/internal/cluster"
	"concurrencylab/internal/countercheck"
	"concurrencylab/internal/labtest"
	"concurrencylab/internal/redislab"
	"concurrencylab/internal/scenario"
)

// TestMain runs this test binary as the counter itself where a test asks
// (labtest.RunMain), and otherwise fails the package if any test leaves a
// goroutine behind.
func TestMain(m *testing.M) {
	labtest.MainIfChild(main)
	goleak.VerifyTestMain(m, goleak.Cleanup(labtest.Exit))
}

// redisKinds are the Redis servers the suites run on: the embedded one,
// which needs nothing installed, and under the lab's own tests (-tags lab)
// a real redis-server too (redisserver_test.go).
var redisKinds = []string{redislab.Embedded}

// lbKinds are the load balancers the replicas run behind: the lab's own Go
// proxy, and under the lab's own tests haproxy too (haproxy_test.go).
var lbKinds = []string{cluster.Embedded}

// on returns a factory of servers whose /inc increments as inc says, all
// sharing the Redis at rs: one server, or each replica of a cluster.
func on(rs *redislab.Server, inc string) labtest.Factory {
	return onReading(rs, inc, Direct)
}

// onReading is on, with /get reading as read says (-read).
func onReading(rs *redislab.Server, inc, read string) labtest.Factory {
	return func(t testing.TB) labtest.Server {
		rdb := rs.Client()
		t.Cleanup(func() { rdb.Close() })
		redislab.BatchScripts(rdb) // as main does
		store, err := NewStore(t.Context(), rdb, inc)
		require.NoError(t, err)
		if read == Cached {
			store.CacheReads()
		}
		return labtest.Server{Handler: NewHandler(store)}
	}
}

// The load on a counter in Redis: every increment is a round trip to Redis,
// which the race detector slows several times over, and a lost update
// needs only two clients at once. loadWorkers clients send loadRequests
// increments in all: -inc getset loses about four in five of them.
const loadWorkers, loadRequests = 20, 300

// alone is one server on a fresh embedded Redis of its own.
func alone(inc string) func(t *testing.T, _ scenario.Needs) *scenario.Target {
	return func(t *testing.T, _ scenario.Needs) *scenario.Target {
		return lighter(labtest.Loopback(t, on(labtest.Redis(t, redislab.Embedded), inc)(t), false))
	}
}

// replicas is three servers behind a load balancer of kind lb, on a fresh
// Redis of kind.
func replicas(kind, lb, inc string) func(t *testing.T, _ scenario.Needs) *scenario.Target {
	return func(t *testing.T, _ scenario.Needs) *scenario.Target {
		return lighter(labtest.Replicas(t, 3, lb, on(labtest.Redis(t, kind), inc)))
	}
}

func lighter(tg *scenario.Target) *scenario.Target {
	tg.Load = labtest.LighterLoad(tg, loadWorkers, loadRequests)
	return tg
}

// TestCounter runs the counter suite against both safe increments: the
// script on one server, and on three replicas behind a proxy on the
// embedded Redis and on a real redis-server; the optimistic one on three
// replicas.
func TestCounter(t *testing.T) {
	t.Run("script/one server", func(t *testing.T) {
		labtest.RunAgainst(t, countercheck.Subject.Scenarios, alone(Script))
	})
	for kind, lb := range labtest.Kinds(redisKinds, lbKinds) {
		t.Run("script/3 replicas on "+kind+labtest.Behind(lb), func(t *testing.T) {
			labtest.RunAgainst(t, countercheck.Subject.Scenarios, replicas(kind, lb, Script))
		})
	}
	for _, lb := range lbKinds {
		t.Run("watch/3 replicas"+labtest.Behind(lb), func(t *testing.T) {
			labtest.RunAgainst(t, countercheck.Subject.Scenarios, replicas(redislab.Embedded, lb, Watch))
		})
	}
}

// TestGetSetLosesUpdates proves that -inc getset loses increments under
// concurrent load, in one server and across replicas, while the race
// detector, which sees only one process's memory, reports nothing: the
// child's failure must be lost updates, never a race. With LAB_EXERCISE=1
// (docs/exercises/replicas.md) it must pass instead.
func TestGetSetLosesUpdates(t *testing.T) {
	sc, _ := countercheck.Subject.Scenario("ConcurrentIncrementsAreExact")
	targets := map[string]func(*testing.T, scenario.Needs) *scenario.Target{"one server": alone(GetSet)}
	for _, lb := range lbKinds {
		targets["3 replicas"+labtest.Behind(lb)] = replicas(redislab.Embedded, lb, GetSet)
	}
	for name, newTarget := range targets {
		t.Run(name, func(t *testing.T) {
			labtest.ExpectFailure(t, func(t *testing.T) {
				require.NoError(t, sc.Run(t.Context(), newTarget(t, 0)))
			}, countercheck.CountShort)
		})
	}
}

// cachedReadsAreStale proves that -read cache answers reads from a stale
// copy: every increment is counted, the race detector reports nothing,
// and only the history of answers shows it. The child's failure must be
// stale reads, never lost updates. The lab's own tests run it
// (cache_test.go): it waits out the cache's copies, a second of
// the learner's command.
func cachedReadsAreStale(t *testing.T, newTarget func(t *testing.T) *scenario.Target) {
	labtest.ExpectFailure(t, func(t *testing.T) {
		require.NoError(t, countercheck.History.Run(t.Context(), newTarget(t)))
	}, countercheck.StaleReads)
}

// TestWatchCountsRetries checks that the optimistic increments' retries
// are where a learner can see them: /debug/vars, through any replica.
func TestWatchCountsRetries(t *testing.T) {
	for _, lb := range lbKinds {
		t.Run(lb, func(t *testing.T) { watchCountsRetries(t, lb) })
	}
}

func watchCountsRetries(t *testing.T, lb string) {
	tg := replicas(redislab.Embedded, lb, Watch)(t, 0)
	b, count := tg.Load.Spec("/inc?name=i")
	_, err := scenario.SendAll(t.Context(), tg, b, count)
	require.NoError(t, err)
	var increments, retries int64
	for _, url := range tg.Replicas {
		v := varsOf(t, url)
		increments += v.Increments
		retries += v.Retries
	}
	assert.Equal(t, int64(b.N*count), increments, "every increment committed once")
	assert.Positive(t, retries, "%d clients at a time on one key: some transactions must have run again", b.C)
	t.Logf("%d increments, %d retries", increments, retries)
}

// TestRedisUnreachableAtStart: no Redis, one clear line, exit 1.
func TestRedisUnreachableAtStart(t *testing.T) {
	rs := labtest.Redis(t, redislab.Embedded)
	addr := rs.Addr
	rs.Close() // nothing listens there now
	code, out := labtest.RunMain(t, "-addr", "127.0.0.1:0", "-redis", addr)
	assert.Equal(t, 1, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	assert.Len(t, lines, 1, "one line: %q", out)
	assert.Contains(t, out, "cannot reach Redis at "+addr)
}

// TestRedisStoppedMidRun: while Redis is gone, every request gets a 503,
// never a wrong 200; when it is back, the counter serves again, and on the
// embedded Redis, which keeps its data, nothing acknowledged is lost.
func TestRedisStoppedMidRun(t *testing.T) {
	for kind, lb := range labtest.Kinds(redisKinds, lbKinds) {
		t.Run(kind+labtest.Behind(lb), func(t *testing.T) {
			rs := labtest.Redis(t, kind)
			tg := labtest.Replicas(t, 3, lb, on(rs, Script))
			c := countercheck.NewClient(tg, scenario.AnswerWait)
			ctx := t.Context()
			for range 5 {
				require.NoError(t, c.Expect(ctx, http.MethodGet, "/inc?name=i", http.StatusOK, "ok"))
			}
			require.NoError(t, rs.Stop())
			for _, path := range []string{"/inc?name=i", "/get?name=i", "/set?name=i&val=7"} {
				for range len(tg.Replicas) {
					resp, err := tg.Get(ctx, path, scenario.AnswerWait)
					require.NoError(t, err)
					assert.Equal(t, http.StatusServiceUnavailable, resp.Status, "%s while Redis is down: %s", path, resp.Line())
				}
			}
			require.NoError(t, rs.Restart(ctx))
			want := "i: 5"
			if kind == redislab.Real {
				// No persistence: a real redis-server comes back empty.
				require.NoError(t, c.Expect(ctx, http.MethodGet, "/set?name=i&val=5", http.StatusOK, "ok"))
			}
			for range len(tg.Replicas) {
				require.NoError(t, c.Expect(ctx, http.MethodGet, "/get?name=i", http.StatusOK, want))
			}
		})
	}
}

// watchVars are a server's optimistic-increment counts, from /debug/vars.
type watchVars struct {
	Retries    int64 `json:"inc_retries"`
	Increments int64 `json:"inc_increments"`
}

func varsOf(t *testing.T, url string) watchVars {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url+"/debug/vars", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var v watchVars
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
	return v
}
