//go:build lab

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"concurrencylab/internal/gobuild"
	"concurrencylab/internal/labtest"
	"concurrencylab/internal/scenario"
)

// TestMain makes this test binary the harness itself when a test starts it
// with labtest.MainCommand (the narrow-terminal test), and forgets the
// servers the harness built for the tests (see gobuild.Cleanup).
func TestMain(m *testing.M) {
	labtest.MainIfChild(main)
	code := m.Run()
	gobuild.Cleanup()
	labtest.Exit(code)
}

// What each version's evidence must say, beyond its verdict: the seed's
// own words where it has them. The counts are those of the smoke test's
// load, -n 200 -c 10 -repeat 1, under a loader that counts exactly.
var wantEvidence = map[string][]string{
	"loadtest/baseline":             {"requests answered ok"},
	"1_naive-race/counter":          {"DATA RACE", "main.(*Store).Inc"},
	"2_mutex/counter":               {"i: 200 after 200 increments"},
	"3_channel-commands/counter":    {"i: 200 after 200 increments"},
	"4_panic-safety/counter":        {"slice bounds out of range", "crash-on-panic", "(exit 70)"},
	"1_naive-race/matchmaker":       {}, // a race or the check-then-act panic: see below
	"2_mutex/matchmaker":            {"all paired, /stats balanced", "paired symmetrically"},
	"3_channel-commands/matchmaker": {"all paired, /stats balanced", "paired symmetrically"},
	"4_panic-safety/matchmaker":     {"GET /?id=poison@", "(exit 70)"},
	"1_naive-race/notifier":         {"subscribers left", "Subscribers:8"},
	"2_mutex/notifier":              {"got all", "in order", "were removed", "a stalled one was dropped after"},
	"3_channel-commands/notifier":   {"got all", "in order", "were removed", "a stalled one was dropped after"},
	"4_panic-safety/deadlock":       {"slice bounds out of range", "GET /get?name=i got no answer"},
	"4_panic-safety/halfdone":       {"watch the world burn", "curr_size 5, actual_size 2"},
	"4_panic-safety/goroutine":      {"index out of range [1] with length 1", "(exit 2)"},
	"4_panic-safety/recoverer":      {"(500)", "GET /comments?last=1 got no answer"},

	// Three replicas behind the proxy, keyed by package and strategy.
	"2_mutex/counter mutex ×3":        {"on the 3 replicas", "each replica counts only its own", "race detector, built into all 3 replicas, reported nothing"},
	"5_redis/counter redis-getset ×3": {"lost", "race detector, built into all 3 replicas, reported nothing"},
	"5_redis/counter redis ×3":        {"i: 200 after 200 increments"},
	"2_mutex/matchmaker mutex ×3":     {"alice on replica 1 and bob on replica 2 were both still waiting"},
	"5_redis/matchmaker redis ×3":     {"alice on replica 1 and bob on replica 2 paired", "all paired, /stats balanced"},
	"2_mutex/notifier mutex ×3":       {"events, and no more for"},
	"5_redis/notifier redis ×3":       {"on 3 replicas got all", "in order", "were removed"},
}

// evidenceKey is a result's key in wantEvidence: its package, and for a
// row of replicas its strategy too.
func evidenceKey(r result) string {
	if r.Replicas > 0 {
		return r.Package + " " + r.Strategy
	}
	return r.Package
}

// TestHarnessVerdicts is the harness's smoke test: a small load on every
// version of the registry, built with -race as the default run is, and the
// verdict the lab declares for each, with its evidence. It runs the
// harness once per subject, two subjects at a time: the harness runs its
// versions one after another, mostly waiting for servers to stop, and the
// verdicts do not depend on the throughput.
//
// The counter rows run once more with each other load generator (ab, wrk):
// each counts in its own way, and the exact-count invariant must judge the
// correct counters ok and the naive one broken under each.
func TestHarnessVerdicts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs every version: not in -short")
	}
	for _, subject := range subjectNames() {
		t.Run(subject, func(t *testing.T) {
			t.Parallel()
			checkVerdicts(t, subject, "hey")
		})
	}
	for _, load := range []string{"ab", "wrk"} {
		t.Run("counter/"+load, func(t *testing.T) {
			labtest.NeedCommand(t, load, "apt-get install "+debianPackage[load])
			t.Parallel()
			checkVerdicts(t, "counter", load)
		})
	}
}

// checkVerdicts runs the harness on subject's rows with load and checks
// every verdict and its evidence.
func checkVerdicts(t *testing.T, subject, load string) {
	var stdout, stderr bytes.Buffer
	args := []string{"-subject", subject, "-n", "200", "-c", "10", "-repeat", "1", "-json", "-load", load, "-wrk-duration", "1s"}
	if load != "hey" {
		// The rows of replicas are loaded as the single servers are:
		// with hey they are checked once, and that is enough.
		args = append(args, "-replicas=false")
	}
	code := run(t.Context(), args, &stdout, &stderr)
	var rep runReport
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &rep), "stdout: %s\nstderr: %s", stdout.String(), stderr.String())

	want, err := selected(options{subjects: []string{subject}, replicas: load == "hey"})
	require.NoError(t, err)
	require.Len(t, rep.Results, len(want), "one row per version, baselines included")
	for _, r := range rep.Results {
		t.Run(r.Package+"/"+strings.ReplaceAll(r.Strategy, " ", ""), func(t *testing.T) {
			assert.True(t, r.Declared, "verdict %q, want one of %v: %s", r.Verdict, r.Want, r.Evidence)
			for _, want := range wantEvidence[evidenceKey(r)] {
				if r.Load == "wrk" && strings.Contains(want, "after 200 increments") {
					want = "increments, 10 at a time" // wrk runs for a time, not a count
				}
				assert.Contains(t, r.Evidence, want)
			}
			if r.Package == "1_naive-race/matchmaker" {
				// Its seed's bugs, whichever shows first: the check-then-act
				// panic, a client handed out after it left, or that same
				// client counted twice (timed out, and paired), which
				// unbalances /stats (matchcheck.UnbalancedStats).
				assert.True(t, strings.Contains(r.Evidence, "paired with one that had left") ||
					strings.Contains(r.Evidence, "index out of range [0] with length 0") ||
					strings.Contains(r.Evidence, "!= 2×paired"), r.Evidence)
			}
			if r.Verdict == scenario.OK {
				assert.NotEmpty(t, r.RPS, "an ok version was measured")
				assert.Positive(t, r.Requests, "an ok version answered")
			}
			if r.Requests > 0 {
				// Every load generator reads latencies below a millisecond
				// (ab's from its -e CSV), and no request takes 0.
				assert.Positive(t, r.P50, "latencies were read from %s", r.Load)
				// hey gives no 99th percentile of fewer than 100 requests:
				// with -c 10, a burst of the bursts shape is 10.
				if r.Shape != scenario.Bursts || r.P99 != 0 {
					assert.GreaterOrEqual(t, r.P99, r.P50, "p99 from %s", r.Load)
				}
			}
		})
	}
	assert.Equal(t, 0, code, "exit status, with every verdict as declared; stderr: %s", stderr.String())
}

// debianPackage is the package that installs each load generator but hey.
var debianPackage = map[string]string{"ab": "apache2-utils", "wrk": "wrk"}

// TestRegistry checks what the rest of the lab takes from the registry: a
// package for every row, a verdict for every row, and the -help text.
func TestRegistry(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range versions {
		key := v.subject.Name + "/" + v.label()
		assert.False(t, seen[key], "%s twice", key)
		seen[key] = true
		assert.DirExists(t, "../"+v.pkg)
		assert.NotEmpty(t, v.wantRace, key)
		assert.NotNil(t, v.drive(), key)
	}
	var stderr bytes.Buffer
	assert.Equal(t, 0, run(t.Context(), []string{"-help"}, io.Discard, &stderr))
	for _, v := range versions {
		assert.Contains(t, stderr.String(), v.pkg, "-help lists every version")
	}
	for _, s := range subjects {
		assert.Contains(t, stderr.String(), s.Contract, "-help gives every contract")
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-subject", "teapot"},
		{"-load", "siege"},
		{"-n", "1"},
		{"-c", "100", "-n", "10"},
		{"extra"},
		{"-url", "http://127.0.0.1:9"}, // which contract?
		{"-subject", "counter,matchmaker", "-url", "http://127.0.0.1:9"},          // one only
		{"-subject", "counter", "-url", "http://127.0.0.1:9", "-cmd", "x {port}"}, // one or the other
		{"-subject", "counter", "-cmd", "python3 counter.py"},                     // no {port}
		{"-subject", "panic", "-url", "http://127.0.0.1:9"},                       // no such contract
		{"-redis", "127.0.0.1:6379", "-embedded-redis"},                           // one or the other
	} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, 2, run(t.Context(), args, &stdout, &stderr), "%v", args)
		assert.Empty(t, stdout.String(), "%v", args)
		assert.NotEmpty(t, stderr.String(), "%v says why", args)
	}
}

// The harness loads only servers on this machine.
func TestJudgeRefusesOtherHosts(t *testing.T) {
	for _, u := range []string{"http://10.0.0.1:8000", "http://example.com", "https://127.0.0.1:8000", "127.0.0.1:8000"} {
		_, err := loopbackURL(u)
		assert.Error(t, err, u)
	}
	for _, u := range []string{"http://127.0.0.1:8000", "http://localhost:8000/", "http://[::1]:8000"} {
		_, err := loopbackURL(u)
		assert.NoError(t, err, u)
	}
}

// TestSelected checks -subject and -strategy, and that the baselines come
// along whatever is chosen.
func TestSelected(t *testing.T) {
	for replicas, want := range map[bool][]string{
		true:  {"loadtest/baseline no-op", "loadtest/baseline no-op, bursts", "2_mutex/counter mutex", "3_channel-commands/counter channel", "2_mutex/counter mutex ×3"},
		false: {"loadtest/baseline no-op", "loadtest/baseline no-op, bursts", "2_mutex/counter mutex", "3_channel-commands/counter channel"},
	} {
		vs, err := selected(options{subjects: []string{"counter"}, strategies: []string{"mutex", "channel"}, replicas: replicas})
		require.NoError(t, err)
		var got []string
		for _, v := range vs {
			got = append(got, v.pkg+" "+v.label())
		}
		assert.Equal(t, want, got, "-replicas=%v", replicas)
	}
}

// Each load generator, against a real loopback server that counts what
// it is asked.
func TestLoaders(t *testing.T) {
	for _, name := range slices.Sorted(maps.Keys(loaders)) {
		t.Run(name, func(t *testing.T) {
			if name != "hey" {
				labtest.NeedCommand(t, name, "apt-get install "+debianPackage[name])
			}
			l, err := loaders[name](options{wrkDuration: time.Second})
			require.NoError(t, err)
			var served atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				if served.Add(1)%10 == 0 {
					http.Error(w, "every tenth", http.StatusTeapot)
					return
				}
				fmt.Fprintln(w, "ok")
			}))
			defer srv.Close()

			var made answers
			smp, err := l.run(t.Context(), srv.URL, scenario.Burst{Path: "/x?y=1", N: 200, C: 4}, &made)
			require.NoError(t, err)
			assert.Empty(t, smp.Errors)
			if l.countsLive() {
				assert.EqualValues(t, 200, made.count(), "requests counted as they were made")
			}
			if l.countsExactly() {
				assert.Equal(t, 200, smp.Answered)
				assert.Equal(t, int(served.Load()), smp.Answered, "every request served is counted")
			} else {
				assert.LessOrEqual(t, smp.Answered, int(served.Load()), "no request counted that was not served")
			}
			assert.InDelta(t, smp.Answered*9/10, smp.OKCount(), 4, "the 418s are not ok: %s", smp.CodesSummary())
			assert.Positive(t, smp.P50, "latencies were read")
			assert.GreaterOrEqual(t, smp.P99, smp.P50)
			assert.Positive(t, smp.RPS())
		})
	}
}
