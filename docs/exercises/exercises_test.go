// Package exercises_test proves that the exercises in this directory are
// real: in exercise mode (LAB_EXERCISE=1) the naive versions, untouched,
// fail their own tests, and each model answer, dropped into a naive package
// in their place, passes them. Both run the real go command in child
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
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"concurrencylab/internal/labtest"
)

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

// A subject is one naive package and what its exercise needs.
type subject struct {
	name string // counter, matchmaker, notifier: the folder under 1_naive-race/ and the others

	// failingRun is a -run pattern for the untouched version: a subset of
	// its tests that fails at once and every time (see
	// TestUntouchedNaiveFailsExerciseMode), or "" for the whole package.
	failingRun string
	// evidence matches an output line that shows the seed's bug, under
	// -race or without it.
	evidence func(race bool) *regexp.Regexp

	// modelFiles maps a file of the naive package to the model answer's
	// file that takes its place, as a path under the strategy's folder
	// (2_mutex/<subject>/ or 3_channel-commands/<subject>/).
	modelFiles map[string]string
}

// adapterFile is the file, if any, that gives the naive main.go and tests
// what they call on top of strategy's model answer of subject: it is
// testdata/<strategy>/<subject>.go, and goes into the naive package as
// adapter.go. There is one for each strategy, since the model answers'
// lifecycles differ: the channel-commands answer has an owner goroutine to
// Close, the mutex answer nothing to stop.
func adapterFile(subject, strategy string) string {
	return filepath.Join("testdata", strategy, subject+".go")
}

var subjects = []subject{
	{
		name: "counter",
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
		modelFiles: map[string]string{"store.go": "store.go"},
	},
	{
		name: "matchmaker",
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
		modelFiles: map[string]string{"matchmaker.go": "matchmaker.go"},
	},
	{
		name: "notifier",
		// On a fake clock, one of two subscribers closes its connection;
		// nothing in the naive server reads it, so it is still counted.
		failingRun: "^TestNotifierIsBroken$/^DisconnectedSubscriberIsRemoved$",
		evidence: func(bool) *regexp.Regexp {
			return regexp.MustCompile(`never removed: `)
		},
		modelFiles: map[string]string{"hub.go": "hub.go"},
	},
}

// The two model answers, by their folders.
var strategies = []string{"2_mutex", "3_channel-commands"}

// TestUntouchedNaiveFailsExerciseMode proves that exercise mode demands a
// fix: LAB_EXERCISE=1 go test on a naive package as the lab ships it exits
// non-zero, having run the suite in-process, and the output shows the
// seed's bug.
//
// For the matchmaker and the notifier the child runs one scenario, not the
// whole suite, which is sound: go test fails if any test fails, the full
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
			if s.failingRun != "" {
				args = append(args, "-run="+s.failingRun)
			}
			args = append(args, packageArgs("./1_naive-race/"+s.name)...)
			out, err := goCommand(t, root, args...)

			if err == nil {
				t.Fatalf("LAB_EXERCISE=1 go %s passed, but the naive version as the lab ships it fails.\n"+
					"Its files have been changed (is a learner's fix in place?). Restore them with\n"+
					"\tgit checkout -- 1_naive-race/%s\n(keep a copy of your fix first, if you want it).\nThe output ends:\n%s",
					strings.Join(args, " "), s.name, tail(out))
			}
			requireRan(t, out, err)
			require.Truef(t, hasLine(out, s.evidence(labtest.RaceEnabled)),
				"the child failed, but without the seed's bug (%s) in its output; the output ends:\n%s",
				s.evidence(labtest.RaceEnabled), tail(out))
		})
	}
}

// TestModelAnswersPassExerciseMode proves that the exercises can be done:
// each model answer, laid over its naive package in place of the naive
// files (with an adapter where the naive main.go and tests call what the
// answer does not have: see adapterFile), passes the naive
// package's whole test in exercise mode. The naive main.go is kept, so the
// command still builds as a learner's fix must.
func TestModelAnswersPassExerciseMode(t *testing.T) {
	t.Parallel()
	root := moduleRoot(t)
	for _, s := range subjects {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			for _, strategy := range strategies {
				t.Run(strategy, func(t *testing.T) {
					t.Parallel()
					overlay := writeOverlay(t, root, s, strategy)
					pkg := "./1_naive-race/" + s.name
					out, err := goCommand(t, root, append([]string{"test", "-count=1", "-v",
						"-timeout=" + childTestTimeout, "-overlay=" + overlay}, packageArgs(pkg)...)...)

					require.NoErrorf(t, err, "%s/%s in place of the naive files should pass; the output ends:\n%s",
						strategy, s.name, tail(out))
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

// writeOverlay writes a go test -overlay file that lays the model answer of
// strategy over the naive package of s, and returns its path. Every
// non-test file of the naive package but main.go is deleted, so that files
// a learner may have added for a fix cannot clash with the model answer;
// the tests and main.go stay as they are.
func writeOverlay(t *testing.T, root string, s subject, strategy string) string {
	naive := filepath.Join(root, "1_naive-race", s.name)
	entries, err := os.ReadDir(naive)
	require.NoError(t, err)
	replace := map[string]string{}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") && name != "main.go" {
			replace[filepath.Join(naive, name)] = "" // deleted
		}
	}
	for naiveName, modelName := range s.modelFiles {
		model := filepath.Join(root, strategy, s.name, modelName)
		require.FileExists(t, model)
		replace[filepath.Join(naive, naiveName)] = model
	}
	if adapter, err := filepath.Abs(adapterFile(s.name, strategy)); err == nil {
		if _, err := os.Stat(adapter); err == nil {
			replace[filepath.Join(naive, "adapter.go")] = adapter
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

// requireRan fails the test unless the child built, ran a naive package's
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
