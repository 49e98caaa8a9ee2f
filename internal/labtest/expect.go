// Package labtest is the lab's test kit: it runs a subject's scenarios
// (internal/scenario) as subtests against a fresh in-process server of one
// version, over loopback HTTP or on a fake clock; it proves that a naive
// version breaks the way its seed says, in a child process
// (ExpectFailure); it runs a test binary as a server in a child process
// (StartChild); and it benchmarks.
package labtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"concurrencylab/internal/scenario"
)

// LeakedGoroutines is goroutines left running when a scenario is over: goleak's
// report on loopback, or a synctest bubble's.
var LeakedGoroutines = scenario.InOutput("leaked goroutines",
	`found unexpected goroutines|deadlock: main bubble goroutine has exited but blocked goroutines remain`, scenario.Leaked)

// ExerciseEnv names the environment variable that turns on exercise mode:
// with LAB_EXERCISE=1, a naive version's tests demand that it pass like the
// safe versions, so a learner who fixes it sees green.
const ExerciseEnv = "LAB_EXERCISE"

const (
	// childEnv tells a re-executed test binary which test it runs as the
	// expected-to-fail child.
	childEnv = "LAB_EXPECTED_FAILURE_CHILD"
	// childTimeout bounds a child that neither fails nor finishes.
	childTimeout = 2 * time.Minute
	// childAttempts bounds how many times a child runs a run that passes.
	childAttempts = 10
)

// ExpectFailure proves that run fails in one of the ways in anyOf, without
// failing the test that calls it.
//
// It re-executes the current test binary as a child process that runs only
// the calling test, with run executed for real. The child is expected to
// fail: a race report, a fatal error or a panic kills it, or run reports an
// error. A run that passes is run again, up to childAttempts times in all,
// since a race may need a few tries to show. The caller passes if the child failed and its output has a line
// matching one of anyOf; that line, with the first stack frame outside the
// Go runtime when there is one, is logged as the evidence. With GORACE's
// halt_on_error the child stops at the first race report, and without
// atexit_sleep_ms it exits at once.
//
// In exercise mode (LAB_EXERCISE=1) there is no child: run must pass here.
func ExpectFailure(t *testing.T, run func(t *testing.T), anyOf ...scenario.Failure) {
	t.Helper()
	if os.Getenv(ExerciseEnv) == "1" {
		t.Log("exercise mode: this version must pass the same suite as the safe versions")
		run(t)
		return
	}
	if os.Getenv(childEnv) == t.Name() {
		runUntilFailure(t, run)
		return
	}
	if len(anyOf) == 0 {
		t.Fatal("ExpectFailure needs at least one expected Failure")
	}

	// The child is a process of its own, which the parent only waits for:
	// it may wait alongside the other children of its suite (go test's
	// -parallel, GOMAXPROCS at a time), once the suite's tests in this
	// process are done.
	t.Parallel()
	out, err := runChild(t)
	if err == nil {
		t.Fatalf("the child passed, but it should have failed with %s.\n"+
			"(If you fixed this version as an exercise, run its tests with %s=1.)\nIts output:\n%s",
			names(anyOf), ExerciseEnv, tail(out))
	}
	if f, evidence, ok := findEvidence(out, anyOf); ok {
		t.Logf("failed as expected, with %s: %s", f.Name, evidence)
		return
	}
	t.Fatalf("the child failed (%v), but not with %s.\nIts output:\n%s", err, names(anyOf), tail(out))
}

// runUntilFailure runs run as subtests, again and again while it passes, up
// to childAttempts times. Whether threads interleave badly under load is a
// matter of chance; a bug that shows on most runs shows on one of ten all but
// always. A run that fails stops the child (a crash stops it anyway).
func runUntilFailure(t *testing.T, run func(t *testing.T)) {
	for attempt := 1; attempt <= childAttempts; attempt++ {
		if !t.Run(fmt.Sprintf("attempt-%d", attempt), run) {
			return
		}
	}
}

// runChild re-runs the calling test alone in a child process and returns its
// combined output and its exit error.
func runChild(t *testing.T) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), childTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run="+runPattern(t.Name()), "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name(), "GORACE=halt_on_error=1 atexit_sleep_ms=0")
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("the child did not finish within %v.\nIts output:\n%s", childTimeout, tail(out))
	}
	return out, err
}

// runPattern is a -test.run pattern that matches exactly the test name.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// findEvidence returns the first output line that matches one of failures,
// followed by the first stack frame after it that is outside GOROOT, and the
// failure it matched.
func findEvidence(out []byte, failures []scenario.Failure) (scenario.Failure, string, bool) {
	lines := strings.Split(string(out), "\n")
	for i, line := range lines {
		line = strings.TrimSpace(line)
		for _, f := range failures {
			if f.Pattern.MatchString(line) {
				if testLogLine.MatchString(line) {
					return f, line, true // a test's own message: no stack follows
				}
				if frame := firstOwnFrame(lines[i+1:]); frame != "" {
					return f, line + " in " + frame, true
				}
				return f, line, true
			}
		}
	}
	return scenario.Failure{}, "", false
}

// testLogLine matches a line that a test logged: "file_test.go:12: ...".
var testLogLine = regexp.MustCompile(`^[\w.-]+\.go:\d+: `)

// firstOwnFrame looks through the next lines of a stack trace for the first
// frame whose file is outside GOROOT and returns it as "func (file:line)".
func firstOwnFrame(lines []string) string {
	const window = 40
	goroot := runtime.GOROOT()
	for i := 1; i < len(lines) && i < window; i++ {
		file := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(file, "/") || !strings.Contains(file, ".go:") {
			continue
		}
		if goroot != "" && strings.HasPrefix(file, goroot) {
			continue
		}
		file, _, _ = strings.Cut(file, " +0x")
		fn := strings.TrimSpace(lines[i-1])
		if args := strings.LastIndex(fn, "("); args > 0 && strings.HasSuffix(fn, ")") {
			fn = fn[:args] + "()" // drop the argument words of a panic's trace
		}
		return fn + " at " + file
	}
	return ""
}

func names(fs []scenario.Failure) string {
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteString(" or ")
		}
		b.WriteString(f.Name)
	}
	return b.String()
}

// tail returns the last lines of out, enough to read a failure.
func tail(out []byte) string {
	const keep = 60
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > keep {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
