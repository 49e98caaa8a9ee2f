//go:build lab

package main

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"concurrencylab/internal/scenario"
)

// TestPlainLogLines tells a plain log a run whose rows finish out of order,
// as they do when a server's stop is waited for while the next row runs:
// a line per row, in the order they finished, each numbered as its row is
// in the table.
func TestPlainLogLines(t *testing.T) {
	var b bytes.Buffer
	l := &plainLog{w: &b}
	l.building(2, true)
	l.built(1, 2)
	l.built(2, 2)
	vs := []version{{subject: baseline, strategy: "no-op"}, {subject: counter, strategy: "mutex"}, {subject: counter, strategy: "naive"}}
	l.running(0, 3, vs[0])
	l.rate(1000) // says nothing: a log is no place for a live rate
	l.running(1, 3, vs[1])
	l.finished(0, result{Subject: "baseline", Strategy: "no-op", Verdict: scenario.OK, Declared: true, RPS: []float64{30000, 31000, 32000}, Elapsed: 2100 * time.Millisecond})
	l.running(2, 3, vs[2])
	l.finished(2, result{Subject: "counter", Strategy: "naive", Verdict: scenario.Race, Want: []scenario.Verdict{scenario.Race}, Declared: true})
	l.finished(1, result{Subject: "counter", Strategy: "mutex", Verdict: scenario.OK, Want: []scenario.Verdict{scenario.OK}, RPS: []float64{12345}})
	l.status("waiting for the servers to stop…")

	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	require.Len(t, lines, 5, b.String())
	assert.Equal(t, "loadtest: building 2 servers with -race…", lines[0])
	assert.Regexp(t, `^loadtest: built 2 of 2 servers in \S+$`, lines[1], "once, when the last is built")
	assert.Equal(t, "loadtest: [1/3] baseline no-op: ok ✓ (31,000 ±3% req/s, 2.1s)", lines[2])
	assert.Equal(t, "loadtest: [3/3] counter naive: race ✓", lines[3], "no throughput for a row that was not measured")
	assert.Equal(t, "loadtest: [2/3] counter mutex: ok ✗ want ok (12,345 req/s)", lines[4])
}

// rowLine is a plain log's line for a row: its number, of how many, and
// its subject and strategy.
var rowLine = regexp.MustCompile(`^loadtest: \[(\d+)/(\d+)\] (\S+) (.+?): `)

// TestPlainLogOfARun runs a small harness with stderr a buffer, as in CI or
// behind a pipe: the count of servers it builds is the count it says it
// built, and each row has one line, numbered right.
func TestPlainLogOfARun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs two servers: not in -short")
	}
	args := []string{"-subject", "counter", "-strategy", "mutex", "-replicas=false", "-n", "200", "-c", "4", "-repeat", "1"}
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), args, &stdout, &stderr)
	require.Equal(t, 0, code, "stderr: %s", stderr.String())
	o, err := parseOptions(args, &stderr)
	require.NoError(t, err)
	vs, err := selected(o)
	require.NoError(t, err)
	var pkgs []string
	for _, v := range vs {
		if !slices.Contains(pkgs, v.pkg) {
			pkgs = append(pkgs, v.pkg)
		}
	}

	lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
	require.GreaterOrEqual(t, len(lines), 2+len(vs), stderr.String())
	assert.Equal(t, fmt.Sprintf("loadtest: building %d servers with -race…", len(pkgs)), lines[0], "one server per package")
	assert.True(t, strings.HasPrefix(lines[1], fmt.Sprintf("loadtest: built %d of %d servers in ", len(pkgs), len(pkgs))), lines[1])
	var numbers []int
	for _, line := range lines[2:] {
		m := rowLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[1])
		assert.Equal(t, strconv.Itoa(len(vs)), m[2], line)
		if assert.True(t, n >= 1 && n <= len(vs), line) {
			v := vs[n-1]
			assert.Equal(t, []string{v.subject.Name, v.label()}, m[3:5], "row %d is %s %s: %s", n, v.subject.Name, v.label(), line)
		}
		numbers = append(numbers, n)
	}
	slices.Sort(numbers)
	var want []int
	for i := range vs {
		want = append(want, i+1)
	}
	assert.Equal(t, want, numbers, "a line per row, once each:\n%s", stderr.String())
	assert.Contains(t, stderr.String(), fmt.Sprintf("loadtest: [%d/%d] counter mutex: ok ✓ (", len(vs), len(vs)))
}
