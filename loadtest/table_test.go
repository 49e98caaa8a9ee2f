//go:build lab

package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"concurrencylab/internal/scenario"
)

// tableReport is a report with the table's kinds of row: a long evidence
// (the replicas' are the longest, some 200 runes), a short one, and one
// without throughput.
func tableReport() runReport {
	return runReport{
		Command: "go run ./loadtest", Race: true, Load: "hey", N: 2000, C: 200, Repeat: 3,
		Machine: "linux/amd64, 2 cores, go1.26", Wall: 75 * time.Second,
		Results: []result{
			{Subject: "counter", Strategy: "mutex ×3", Verdict: scenario.Split, Declared: true, RPS: []float64{9500},
				Ratio: &ratio{Median: 0.5, Low: 0.5, High: 0.5}, P50: 3 * time.Millisecond, P99: 40 * time.Millisecond,
				Evidence: "i: 666, 667, 667 on the 3 replicas, 2000 in all, after 2000 increments answered ok: each replica counts only its own; the race detector, built into all 3 replicas, reported nothing"},
			{Subject: "counter", Strategy: "mutex", Verdict: scenario.OK, Declared: true, RPS: []float64{20000},
				Evidence: "i: 6000"},
			{Subject: "matchmaker", Strategy: "naive", Verdict: scenario.Crashed, Declared: true,
				Evidence: "panic: runtime error: index out of range [0] with length 0 in main.(*ClientQueue).Dequeue (client.go:37) (exit 2)"},
		},
	}
}

// tableRows prints rep's table at width and returns its rows' lines,
// without their newlines, and the whole output.
func tableRows(t *testing.T, rep runReport, width int) (lines []string, out string) {
	t.Helper()
	var b bytes.Buffer
	printTable(&b, rep, width)
	for line := range strings.Lines(b.String()) {
		if strings.HasPrefix(line, "counter ") || strings.HasPrefix(line, "matchmaker ") {
			lines = append(lines, strings.TrimSuffix(line, "\n"))
		}
	}
	require.Len(t, lines, len(rep.Results), "a line per row:\n%s", b.String())
	return lines, b.String()
}

// TestTableFitsTheTerminal prints the table at fixed widths: 0 keeps every
// line whole (a file, -report); 80 cuts each evidence that does not fit,
// to fit; 40 is narrower than the other columns, so each evidence keeps its
// floor.
func TestTableFitsTheTerminal(t *testing.T) {
	rep := tableReport()
	const footnote = "evidence cut to the terminal's"

	t.Run("no limit", func(t *testing.T) {
		lines, out := tableRows(t, rep, 0)
		for i, line := range lines {
			assert.True(t, strings.HasSuffix(line, rep.Results[i].Evidence), "whole: %q", line)
		}
		assert.NotContains(t, out, footnote)
		assert.NotContains(t, out, "…")
	})
	// The other columns take some 60 columns at the least (their
	// headers), and 85 in a whole run: at 80 an evidence gets what is left
	// or its floor, and at 120 what is left.
	for _, width := range []int{80, 120} {
		t.Run(fmt.Sprintf("%d columns", width), func(t *testing.T) {
			lines, out := tableRows(t, rep, width)
			whole, _ := tableRows(t, rep, 0)
			assert.Contains(t, out, fmt.Sprintf("evidence cut to the terminal's %d columns: -json or -report FILE for all of it", width))
			assert.Equal(t, whole[1], lines[1], "a short evidence is left whole")
			for _, i := range []int{0, 2} {
				ev := rep.Results[i].Evidence
				prefix := strings.TrimSuffix(whole[i], ev)
				keep := max(width-utf8.RuneCountInString(prefix), evidenceFloor)
				assert.Equal(t, prefix+string([]rune(ev)[:keep-1])+"…", lines[i], "only the evidence is cut, to fit or to its floor")
				if keep > evidenceFloor {
					assert.Len(t, []rune(lines[i]), width, "the line fits exactly: %q", lines[i])
				}
			}
		})
	}
	t.Run("40 columns", func(t *testing.T) {
		lines, out := tableRows(t, rep, 40)
		assert.Contains(t, out, "evidence cut to the terminal's 40 columns")
		whole, _ := tableRows(t, rep, 0)
		for i, line := range lines {
			ev := rep.Results[i].Evidence
			if utf8.RuneCountInString(ev) <= evidenceFloor {
				assert.Equal(t, whole[i], line, "short evidence is never cut")
				continue
			}
			prefix := strings.TrimSuffix(whole[i], ev)
			require.Greater(t, utf8.RuneCountInString(prefix), 40-evidenceFloor, "the other columns alone fill the terminal")
			cut, found := strings.CutPrefix(line, prefix)
			require.True(t, found, "the columns before the evidence are not cut: %q", line)
			assert.Equal(t, string([]rune(ev)[:evidenceFloor-1])+"…", cut, "the evidence keeps its floor")
		}
	})
}

// TestTableNamesTheBalancer: the ×3 line says which load balancer the
// replicas ran behind, and which Redis, where each is known.
func TestTableNamesTheBalancer(t *testing.T) {
	for _, c := range []struct{ balancer, redis, want string }{
		{"HAProxy 2.6.12", "Redis: redis-server on 127.0.0.1:6379, a child process with no persistence",
			"×3: three replicas behind a round-robin proxy, HAProxy 2.6.12. Redis: redis-server on 127.0.0.1:6379, a child process with no persistence.\n"},
		{"the lab's Go proxy", "", "×3: three replicas behind a round-robin proxy, the lab's Go proxy.\n"},
		{"", "Redis: the one already running on 127.0.0.1:6379",
			"×3: three replicas behind a round-robin proxy. Redis: the one already running on 127.0.0.1:6379.\n"},
	} {
		rep := tableReport()
		rep.Balancer, rep.Redis = c.balancer, c.redis
		var b bytes.Buffer
		printTable(&b, rep, 0)
		assert.Contains(t, b.String(), c.want)
	}
}
