//go:build lab

package labtest

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"concurrencylab/internal/scenario"
)

// TestMain exits without the race detector's one-second pause.
func TestMain(m *testing.M) { Exit(m.Run()) }

// Failures like the subjects', for the engine's own tests: the engine
// knows no subject.
var (
	lostUpdates     = scenario.Marked("lost updates", "lost updates", scenario.LostUpdates)
	wrongPair       = scenario.Marked("a wrong pair", "wrong pair", scenario.Broken)
	indexOutOfRange = scenario.InOutput("index out of range", `^panic: runtime error: index out of range \[0\] with length 0`, scenario.Crashed)
)

func TestRunPatternMatchesOnlyThatTest(t *testing.T) {
	assert.Equal(t, `^TestA\.b$/^sub_\(x\)$`, runPattern("TestA.b/sub_(x)"))
}

func TestFindEvidence(t *testing.T) {
	raceReport := `=== RUN   TestCounterIsBroken
==================
WARNING: DATA RACE
Write at 0x00c0001a2b40 by goroutine 31:
  runtime.mapassign_faststr()
      /usr/local/go/src/internal/runtime/maps/runtime_faststr.go:263 +0x0
  concurrencylab/1_naive-race/counter.(*Store).Inc()
      /work/main/1_naive-race/counter/store.go:46 +0x1b4
`
	fatal := `fatal error: concurrent map writes

goroutine 2319 [running]:
internal/runtime/maps.fatal({0x6ecf75?, 0x15?})
	/usr/local/go/src/runtime/panic.go:1058 +0x18
main.(*Store).Inc(0xc000094ba0, {0x74a300, 0xc0004948c0}, {0xc000270eee, 0x1})
	/work/main/1_naive-race/counter/store.go:46 +0x42a
`
	lost := `    counter.go:75: lost updates: 200 workers sent 20000 increments, and the store says "hits: 19987"
--- FAIL: TestCounterIsBroken (1.02s)
`
	// A test's own message is the evidence as it is, even when lines that
	// look like frames follow it.
	ghost := `    matchmaker.go:266: wrong pair: first was told its peer is alone, a client that had left: it got 408 "timeout waiting for peer\n"
    matchmaker.go:270:
        	Error Trace:	/work/main/internal/labtest/matchclient.go:269
`
	panicked := `panic: runtime error: index out of range [0] with length 0

goroutine 8864 [running]:
concurrencylab/1_naive-race/matchmaker.(*ClientQueue).Dequeue(0xc000118000)
	/work/main/1_naive-race/matchmaker/client.go:37 +0x1a0
`
	for _, tc := range []struct {
		name, out, failure, want string
		ok                       bool
	}{
		{"race", raceReport, "data race", "WARNING: DATA RACE in concurrencylab/1_naive-race/counter.(*Store).Inc() at /work/main/1_naive-race/counter/store.go:46", true},
		{"fatal", fatal, "concurrent map writes", "fatal error: concurrent map writes in main.(*Store).Inc() at /work/main/1_naive-race/counter/store.go:46", true},
		{"lost", lost, "lost updates", `counter.go:75: lost updates: 200 workers sent 20000 increments, and the store says "hits: 19987"`, true},
		{"ghost", ghost, "a wrong pair", `matchmaker.go:266: wrong pair: first was told its peer is alone, a client that had left: it got 408 "timeout waiting for peer\n"`, true},
		{"panic", panicked, "index out of range", "panic: runtime error: index out of range [0] with length 0 in concurrencylab/1_naive-race/matchmaker.(*ClientQueue).Dequeue() at /work/main/1_naive-race/matchmaker/client.go:37", true},
		{"clean", "=== RUN   TestX\n--- FAIL: TestX\n", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, got, ok := findEvidence([]byte(tc.out), []scenario.Failure{scenario.DataRace, scenario.ConcurrentMapWrites, lostUpdates, wrongPair, indexOutOfRange})
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.failure, f.Name)
			assert.Equal(t, tc.want, got)
		})
	}
}

// A bug that does not show on every run is still caught: the child runs
// the test again while it passes. Here it shows on the third run only.
func TestExpectFailureRetriesUntilTheBugShows(t *testing.T) {
	runs := 0 // counted in the child, which runs this closure
	ExpectFailure(t, func(t *testing.T) {
		runs++
		if runs == 3 {
			t.Error(lostUpdates.Errorf("showed on run %d", runs))
		}
	}, lostUpdates)
}
