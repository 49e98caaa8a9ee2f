//go:build lab

// Package exercises_test proves that the exercises in this directory are
// real: in exercise mode (LAB_EXERCISE=1) the broken versions, untouched,
// fail their own tests, and each model answer, dropped into a broken
// package in place of the broken files, passes them. Both run the real go command in child
// processes, from the module root, exactly as a learner would type it; the
// model answers go in through a go test -overlay, so no file on disk
// changes.
package exercises_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"concurrencylab/internal/labtest"
)

// TestMain exits without the race detector's one-second pause.
func TestMain(m *testing.M) { labtest.Exit(m.Run()) }

// exerciseModeLine is what labtest.ExpectFailure logs when it runs a broken
// scenario in-process, in exercise mode, instead of in an expected-to-fail
// child. Seeing it proves the naive package's own test ran the suite in
// its own process.
const exerciseModeLine = "exercise mode: this version must pass the same suite as the safe versions"

// childTimeout bounds one child go test, its build included. Warm, the
// slowest takes a few seconds; the child's own -timeout is shorter, so that
// a child that hangs prints its goroutines before this kills it.
const (
	childTimeout     = 2 * time.Minute
	childTestTimeout = "90s"
)

// A subject is one exercise: the broken package a learner fixes, and what
// proving its exercise needs.
type subject struct {
	name string // the exercise, as its page (counter.md) names it
	pkg  string // the package, from the module root: 1_naive-race/counter

	// failingRun is a -run pattern for the untouched version: a subset of
	// its tests that fails at once and every time (see
	// TestUntouchedNaiveFailsExerciseMode), or "" for the whole package.
	tags       string // build tags its test needs: lab, for a test of the lab's own command
	failingRun string
	// answerRun is a -run pattern for the model answers: the exercise's
	// command, or "" for the whole package.
	answerRun string
	// evidence matches an output line that shows the seed's bug, under
	// -race or without it.
	evidence func(race bool) *regexp.Regexp

	// keep lists the package's non-test files, besides main.go, that stay
	// under every model answer; the others are deleted (see writeOverlay).
	keep []string
	// answers are the model answers.
	answers []answer
}

// An answer is one model answer of an exercise.
type answer struct {
	name string // the folder of its strategy (2_mutex), or the fix's name
	// files maps a file of the package to the file that takes its place,
	// as a path from the module root.
	files map[string]string
	// adapter, if set and present, is a file of this package's, under
	// testdata/, that goes into the package as adapter.go (see
	// naiveAnswers).
	adapter string
}

// naiveAnswers are the model answers of the exercise on the naive version
// of subject: for each strategy, the files of strategy/subject/ that
// modelFiles names (naive file -> the strategy's file), with an adapter
// where there is one: testdata/<strategy>/<subject>.go, which gives the
// naive main.go and tests what they call on top of the answer. There is
// one for each strategy, since the answers' lifecycles differ: the
// channel-commands answer has an owner goroutine to Close, the mutex
// answer nothing to stop.
func naiveAnswers(subject string, modelFiles map[string]string) []answer {
	var answers []answer
	for _, strategy := range strategies {
		files := map[string]string{}
		for naiveName, modelName := range modelFiles {
			files[naiveName] = filepath.Join(strategy, subject, modelName)
		}
		answers = append(answers, answer{name: strategy, files: files, adapter: filepath.Join("testdata", strategy, subject+".go")})
	}
	return answers
}

// The two model answers of the naive versions, by their folders.
var strategies = []string{"2_mutex", "3_channel-commands"}

var subjects = []subject{
	{
		name: "counter",
		pkg:  "1_naive-race/counter",
		// The whole package: its one test takes about a second. Under -race
		// the detector reports the map accesses of two requests that
		// overlap, and 50 clients at once give it plenty; without it, the
		// seed's load of 20,000 increments from 200 clients trips the
		// runtime's map check or loses increments.
		evidence: func(race bool) *regexp.Regexp {
			if race {
				return regexp.MustCompile(`^WARNING: DATA RACE`)
			}
			return regexp.MustCompile(`^fatal error: concurrent map|lost updates: `)
		},
		answers: naiveAnswers("counter", map[string]string{"store.go": "store.go"}),
	},
	{
		name: "matchmaker",
		pkg:  "1_naive-race/matchmaker",
		// On a fake clock, a client waits alone and times out; the naive
		// queue keeps it, and the next client is paired with it: a wrong
		// pair, or under -race the race on the finished client's
		// ResponseWriter (what matchmaker_test.go declares for this
		// scenario). The suite's first scenario fails too, with the seed's
		// index panic, but only by chance: it is a race under load.
		failingRun: "^TestMatchmakerIsBroken$/^LoneClientTimesOut$",
		evidence: func(bool) *regexp.Regexp {
			return regexp.MustCompile(`wrong pair: |^WARNING: DATA RACE`)
		},
		answers: naiveAnswers("matchmaker", map[string]string{"matchmaker.go": "matchmaker.go"}),
	},
	{
		name: "notifier",
		pkg:  "1_naive-race/notifier",
		// On a fake clock, one of two subscribers closes its connection;
		// nothing in the naive server reads it, so it is still counted.
		failingRun: "^TestNotifierIsBroken$/^DisconnectedSubscriberIsRemoved$",
		evidence: func(bool) *regexp.Regexp {
			return regexp.MustCompile(`never removed: `)
		},
		answers: naiveAnswers("notifier", map[string]string{"hub.go": "hub.go"}),
	},
	{
		name: "replicas",
		pkg:  "5_redis/counter",
		// The exercise's own command: the counter suite's concurrent
		// increments against one server and three replicas, on a fresh
		// embedded Redis each. GET, +1, SET loses hundreds of the 1000
		// increments every run; the race detector sees none of it.
		failingRun: "^TestGetSetLosesUpdates$",
		answerRun:  "^TestGetSetLosesUpdates$",
		evidence: func(bool) *regexp.Regexp {
			return regexp.MustCompile(`lost updates: `)
		},
		keep: []string{"store.go", "inc_script.go", "inc_watch.go", "read_cache.go"},
		answers: []answer{
			{name: "script", files: map[string]string{"inc_getset.go": "docs/exercises/testdata/5_redis/counter/script.go"}},
			{name: "watch", files: map[string]string{"inc_getset.go": "docs/exercises/testdata/5_redis/counter/watch.go"}},
		},
	},
	{
		name: "cache",
		pkg:  "5_redis/counter",
		// The exercise's own command: the counter's history phase against
		// one server whose reads come from a copy kept 100 ms. A read
		// older than increments already answered, every run.
		tags:       "lab",
		failingRun: "^TestCachedReadsAreStale$",
		answerRun:  "^TestCachedReadsAreStale$",
		evidence: func(bool) *regexp.Regexp {
			return regexp.MustCompile(`stale reads: `)
		},
		keep: []string{"store.go", "inc_script.go", "inc_watch.go", "inc_getset.go"},
		answers: []answer{
			{name: "read-through", files: map[string]string{"read_cache.go": "docs/exercises/testdata/5_redis/counter/readthrough.go"}},
		},
	},
}

// TestUntouchedNaiveFailsExerciseMode proves that exercise mode demands a
// fix: LAB_EXERCISE=1 go test on a broken package as the lab ships it
// exits non-zero, having run the suite in-process, and the output shows
// the seed's bug.
//
// For the replicas the child runs the exercise's command. For the
// matchmaker and the notifier it runs one scenario, not the whole suite,
// which is sound: go test fails if any test fails, the full
// command runs this same scenario against a fresh server, and the scenario
// runs in a testing/synctest bubble on a fake clock, where its goroutines
// interleave the same way every time. So it fails on every run, and the
// full command fails with it (if an earlier scenario does not crash the
// process first). It takes half a second, where the notifier's whole suite
// takes ten, waiting out its deadlines for subscribers that never go.
func TestUntouchedNaiveFailsExerciseMode(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	for _, s := range subjects {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"test", "-count=1", "-v", "-timeout=" + childTestTimeout}
			if s.tags != "" {
				args = append(args, "-tags="+s.tags)
			}
			if s.failingRun != "" {
				args = append(args, "-run="+s.failingRun)
			}
			args = append(args, packageArgs("./"+s.pkg)...)
			out, err := goCommand(t, root, args...)

			if err == nil {
				t.Fatalf("LAB_EXERCISE=1 go %s passed, but the broken version as the lab ships it fails.\n"+
					"Its files have been changed (is a learner's fix in place?). Restore them with\n"+
					"\tgit checkout -- %s\n(keep a copy of your fix first, if you want it).\nThe output ends:\n%s",
					strings.Join(args, " "), s.pkg, tail(out))
			}
			requireRan(t, out, err)
			require.Truef(t, hasLine(out, s.evidence(labtest.RaceEnabled)),
				"the child failed, but without the seed's bug (%s) in its output; the output ends:\n%s",
				s.evidence(labtest.RaceEnabled), tail(out))
		})
	}
}

// TestModelAnswersPassExerciseMode proves that the exercises can be done:
// each model answer, laid over its broken package in place of the broken
// files (with an adapter where the naive main.go and tests call what the
// answer does not have: see naiveAnswers), passes the package's test in
// exercise mode (the whole test, or the exercise's command). The package's
// main.go is kept, so the command still builds as a learner's fix must.
func TestModelAnswersPassExerciseMode(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	for _, s := range subjects {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			for _, a := range s.answers {
				t.Run(a.name, func(t *testing.T) {
					t.Parallel()
					overlay := writeOverlay(t, root, s, a)
					args := []string{"test", "-count=1", "-v", "-timeout=" + childTestTimeout, "-overlay=" + overlay}
					if s.tags != "" {
						args = append(args, "-tags="+s.tags)
					}
					if s.answerRun != "" {
						args = append(args, "-run="+s.answerRun)
					}
					out, err := goCommand(t, root, append(args, packageArgs("./"+s.pkg)...)...)

					require.NoErrorf(t, err, "the %s answer in place of the files of %s should pass; the output ends:\n%s",
						a.name, s.pkg, tail(out))
					requireRan(t, out, err)
					require.Truef(t, hasLine(out, regexp.MustCompile(`^--- PASS: `)),
						"no top-level test passed; the output ends:\n%s", tail(out))
					require.Falsef(t, hasLine(out, regexp.MustCompile(`--- FAIL: `)),
						"a test failed, yet go test exited 0; the output ends:\n%s", tail(out))
				})
			}
		})
	}
}

// writeOverlay writes a go test -overlay file that lays the model answer a
// over the package of s, and returns its path. Every non-test file of the
// package but main.go and those s keeps is deleted, so that files a
// learner may have added for a fix cannot clash with the model answer; the
// tests, main.go and the kept files stay as they are.
func writeOverlay(t *testing.T, root string, s subject, a answer) string {
	dir := filepath.Join(root, s.pkg)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	replace := map[string]string{}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") && name != "main.go" && !slices.Contains(s.keep, name) {
			replace[filepath.Join(dir, name)] = "" // deleted
		}
	}
	for name, model := range a.files {
		model = filepath.Join(root, model)
		require.FileExists(t, model)
		replace[filepath.Join(dir, name)] = model
	}
	if a.adapter != "" {
		if adapter, err := filepath.Abs(a.adapter); err == nil {
			if _, err := os.Stat(adapter); err == nil {
				replace[filepath.Join(dir, "adapter.go")] = adapter
			}
		}
	}

	config, err := json.Marshal(struct{ Replace map[string]string }{replace})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "overlay.json")
	require.NoError(t, os.WriteFile(path, config, 0o644))
	return path
}

// moduleRoot is the module's root directory, two levels up from this
// package's, where a learner runs the exercise's command.
func moduleRoot(t *testing.T) string {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(root, "go.mod"), "not the module root")
	return root
}

// packageArgs returns -race, if this test binary has it, followed by pkg: a
// child tests the way its parent was asked to.
func packageArgs(pkg string) []string {
	if labtest.RaceEnabled {
		return []string{"-race", pkg}
	}
	return []string{pkg}
}

// goCommand runs the go command that built this test in dir, in exercise
// mode, and returns its combined output and its exit error. It fails the
// test if the command does not finish within childTimeout.
func goCommand(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), childTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(runtime.GOROOT(), "bin", "go"), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), labtest.ExerciseEnv+"=1")
	// The test binary the go command starts could outlive a killed go
	// command and hold the output pipe open: stop waiting for it.
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("go %s did not finish within %v; the output ends:\n%s", strings.Join(args, " "), childTimeout, tail(string(out)))
	}
	return string(out), err
}

// requireRan fails the test unless the child built, ran a broken package's
// test in exercise mode (not in an expected-to-fail child process), and
// exited by itself.
func requireRan(t *testing.T, out string, err error) {
	t.Helper()
	var exit *exec.ExitError
	if err != nil {
		require.ErrorAsf(t, err, &exit, "the go command did not run; the output ends:\n%s", tail(out))
	}
	require.Falsef(t, strings.Contains(out, "[build failed]") || strings.Contains(out, "[setup failed]"),
		"the package did not build; the output ends:\n%s", tail(out))
	require.Containsf(t, out, exerciseModeLine,
		"the suite did not run in exercise mode; the output ends:\n%s", tail(out))
}

// hasLine reports whether a line of out, its indentation aside, matches re.
func hasLine(out string, re *regexp.Regexp) bool {
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if re.MatchString(strings.TrimSpace(sc.Text())) {
			return true
		}
	}
	return false
}

// tail returns the last lines of out, enough to read a failure.
func tail(out string) string {
	const keep = 60
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) > keep {
		lines = append([]string{"..."}, lines[len(lines)-keep:]...)
	}
	return strings.Join(lines, "\n")
}
