//go:build lab

package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"concurrencylab/internal/childproc"
	"concurrencylab/internal/labtest"
	"concurrencylab/internal/scenario"
	"concurrencylab/internal/server"
)

// TestJudgeAServerInAnotherLanguage is the harness judging servers it did
// not build: a counter in Python (testdata/counter.py, a
// ThreadingHTTPServer), written to the counter contract four ways. The
// unlocked read-modify-write loses updates, named with the figures; with
// the lock it is ok; a server that answers bad input wrongly is ok on
// concurrency with a contract score below full; and one whose reads come
// from a copy refreshed every 250 ms has stale reads, not lost updates, and
// no contract case blamed for them. Each through -cmd, which
// starts and stops it, and through -url, at a server already running.
func TestJudgeAServerInAnotherLanguage(t *testing.T) {
	if testing.Short() {
		t.Skip("loads Python servers: not in -short")
	}
	labtest.NeedCommand(t, "python3", "apt-get install python3")
	python, err := exec.LookPath("python3")
	require.NoError(t, err)
	for _, tc := range []struct {
		name, flags  string
		verdict      scenario.Verdict
		evidence     string // a part of it
		contractFull bool
		contractPart string
	}{
		{"unlocked", "--unlocked", scenario.LostUpdates, "increments answered ok, 20 at a time (", true, ""},
		{"locked", "", scenario.OK, "after 600 increments, 20 at a time", true, "23 of 23 bad-input cases answered as the contract says"},
		{"sloppy", "--sloppy", scenario.OK, "after 600 increments", false, "GET /set?name=&val=1: 200"},
		{"stale", "--stale", scenario.StaleReads, "every increment was counted", true, "23 of 23 bad-input cases answered as the contract says"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			command := strings.TrimSpace(python + " testdata/counter.py {port} " + tc.flags)
			t.Run("cmd", func(t *testing.T) {
				rep, code := judgeRun(t, "-cmd", command)
				checkJudged(t, rep, code, tc.verdict, tc.evidence, tc.contractFull, tc.contractPart)
			})
			t.Run("url", func(t *testing.T) {
				port, err := server.FreePort()
				require.NoError(t, err)
				url := "http://127.0.0.1:" + strconv.Itoa(port)
				cmd := exec.Command("sh", "-c", strings.ReplaceAll(command, portPlaceholder, strconv.Itoa(port)))
				p, err := childproc.Start(t.Context(), cmd, childproc.Ready{URL: url, Wait: 10 * time.Second})
				require.NoError(t, err)
				t.Cleanup(func() { p.Stop(5 * time.Second) })
				rep, code := judgeRun(t, "-url", url)
				checkJudged(t, rep, code, tc.verdict, tc.evidence, tc.contractFull, tc.contractPart)
			})
		})
	}
}

// judgeRun runs the harness on a server by -cmd or -url, with a small load,
// and returns its report and exit status.
func judgeRun(t *testing.T, how, what string) (runReport, int) {
	var stdout, stderr bytes.Buffer
	args := []string{"-subject", "counter", how, what, "-n", "200", "-c", "20", "-repeat", "3", "-json"}
	code := run(t.Context(), args, &stdout, &stderr)
	var rep runReport
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &rep), "stdout: %s\nstderr: %s", stdout.String(), stderr.String())
	require.Len(t, rep.Results, 1)
	assert.True(t, rep.External)
	assert.Contains(t, stderr.String(), "the race detector cannot see into another process")
	return rep, code
}

func checkJudged(t *testing.T, rep runReport, code int, verdict scenario.Verdict, evidence string, full bool, contract string) {
	t.Helper()
	r := rep.Results[0]
	assert.Equal(t, verdict, r.Verdict, "evidence: %s", r.Evidence)
	assert.Contains(t, r.Evidence, evidence)
	require.NotNil(t, r.Contract, "the contract battery ran")
	assert.Equal(t, full, r.Contract.Full(), "contract: %s", r.Contract)
	if full {
		assert.Contains(t, r.Contract.String(), contract)
	} else {
		assert.True(t, slices.ContainsFunc(r.Contract.Deviations, func(d string) bool { return strings.HasPrefix(d, contract) }),
			"a deviation starts %q: %v", contract, r.Contract.Deviations)
	}
	if verdict == scenario.OK && full {
		assert.Equal(t, 0, code)
	} else {
		assert.Equal(t, 1, code)
	}
}

// TestJudgeNothingThere: a server that is not there is not judged. The
// harness says that nothing answers and how to start one, and exits as a
// usage error; an unknown subject lists the subjects there are.
func TestJudgeNothingThere(t *testing.T) {
	port, err := server.FreePort() // free: nothing listens there
	require.NoError(t, err)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-subject", "counter", "-url", "http://127.0.0.1:" + strconv.Itoa(port)}, "nothing answers at http://127.0.0.1:" + strconv.Itoa(port)},
		{[]string{"-subject", "nope"}, `-subject "nope": there is no such subject; the subjects are counter, matchmaker, notifier`},
	} {
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), tc.args, &stdout, &stderr)
		assert.Equal(t, 2, code, "a usage error")
		assert.Contains(t, stderr.String(), tc.want)
		assert.Empty(t, stdout.String(), "no verdict table")
	}
}
