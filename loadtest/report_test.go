//go:build lab

package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"concurrencylab/internal/scenario"
)

// chartReport is a small report as a throughput run makes it: the
// baseline, a safe version and one broken on purpose.
func chartReport() runReport {
	return runReport{
		Command: "go run ./loadtest -race=false", Date: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC),
		Machine: "linux/amd64, 2 cores, go1.26", Race: false, Load: "hey", N: 2000, C: 200, Repeat: 3,
		Wall: 40 * time.Second,
		Results: []result{
			{Subject: "baseline", Strategy: "no-op", Package: "loadtest/baseline", Verdict: scenario.OK,
				Want: []scenario.Verdict{scenario.OK}, Declared: true, RPS: []float64{19000, 20000, 21000},
				Ratio: &ratio{Median: 1, Low: 0.95, High: 1.05}, P50: 6 * time.Millisecond, P99: 37 * time.Millisecond,
				Evidence: "6000 requests answered ok, 200 at a time"},
			{Subject: "counter", Strategy: "naive", Package: "1_naive-race/counter", Verdict: scenario.Crashed,
				Want: []scenario.Verdict{scenario.Race, scenario.Crashed}, Declared: true, RPS: []float64{6000},
				Ratio: &ratio{Median: 0.3, Low: 0.3, High: 0.3}, P50: 10 * time.Millisecond, P99: 42 * time.Millisecond,
				Evidence: "fatal error: concurrent map writes (exit 2)"},
			{Subject: "counter", Strategy: "mutex", Package: "2_mutex/counter", Verdict: scenario.OK,
				Want: []scenario.Verdict{scenario.OK}, Declared: true, RPS: []float64{19500, 20500, 22000},
				Ratio: &ratio{Median: 1.02, Low: 0.97, High: 1.1}, P50: 7 * time.Millisecond, P99: 45 * time.Millisecond,
				Evidence: "i: 6000 after 6000 increments, 200 at a time"},
		},
	}
}

// TestReport writes a report: the Markdown table and, by the chart
// command (loadtest/chart, a module of its own), the PNG it links.
func TestReport(t *testing.T) {
	rep := chartReport()
	path := filepath.Join(t.TempDir(), "results.md")
	start := time.Now()
	require.NoError(t, writeReport(path, rep))
	t.Logf("report and chart written in %v", time.Since(start).Round(time.Millisecond))

	md, err := os.ReadFile(path)
	require.NoError(t, err)
	text := string(md)
	assert.Contains(t, text, "| subject | strategy | verdict | | req/s | × baseline | p50 | p99 | evidence |")
	assert.Contains(t, text, "| baseline | [no-op](../loadtest/baseline) | **ok** | ✓ |")
	assert.Contains(t, text, "| counter | [naive](../1_naive-race/counter) | **crashed** | ✓ |")
	assert.Contains(t, text, "| counter | [mutex](../2_mutex/counter) | **ok** | ✓ |")
	assert.Contains(t, text, "![Requests per second by version](results.png)")
	assert.Contains(t, text, "| 2_mutex/counter | ≥ 0.95 |")

	f, err := os.Open(filepath.Join(filepath.Dir(path), "results.png"))
	require.NoError(t, err, "the chart beside the report")
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	// writeChart's size: 9 inches wide, 0.32 inch a row and 1.2 more
	// high, at gonum/plot's 96 dots per inch.
	size := img.Bounds().Size()
	assert.Equal(t, 9*96, size.X, "width")
	assert.InDelta(t, (float64(len(rep.Results))*0.32+1.2)*96, float64(size.Y), 1, "height")
}

// TestReportChartFails: a chart the command cannot write is an error that
// names the command and says why.
func TestReportChartFails(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "results.png"), 0o755)) // no file can be written there
	err := writeReport(filepath.Join(dir, "results.md"), chartReport())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "chart: go -C loadtest/chart run .: ")
	assert.Contains(t, err.Error(), "is a directory")
	assert.FileExists(t, filepath.Join(dir, "results.md"), "the table, written before the chart")
}

// TestChartOf: the chart's bars, in the table's order, each colored by
// what the lab declares: the fixes (crash-on-panic among them) and the
// versions broken on purpose; a capped load says so, and a version with no
// rate has its label and no bar.
func TestChartOf(t *testing.T) {
	rep := chartReport()
	rep.Results = append(rep.Results,
		result{Subject: "counter", Strategy: "crash-on-panic", Want: []scenario.Verdict{scenario.Crashed}, RPS: []float64{9000}},
		result{Subject: "notifier", Strategy: "mutex", Want: []scenario.Verdict{scenario.OK}, RateCap: 2000, RPS: []float64{1990}},
		result{Subject: "matchmaker", Strategy: "mutex ×3", Want: []scenario.Verdict{scenario.Broken}},
	)
	c := chartOf(rep)
	assert.Equal(t, "Requests per second (hey, servers built without -race)", c.Title)
	assert.Equal(t, []chartBar{
		{Label: "baseline no-op", Kind: "baseline", Median: 20000, Low: 19000, High: 21000},
		{Label: "counter naive", Kind: "broken", Median: 6000, Low: 6000, High: 6000},
		{Label: "counter mutex", Kind: "fix", Median: 20500, Low: 19500, High: 22000},
		{Label: "counter crash-on-panic", Kind: "fix", Median: 9000, Low: 9000, High: 9000},
		{Label: "notifier mutex (capped)", Kind: "fix", Median: 1990, Low: 1990, High: 1990},
		{Label: "matchmaker mutex ×3", Kind: "broken"},
	}, c.Bars)
}

// TestSideBySide checks the report's table beyond one process: the
// one-process mutex, the mutex ×3 and the redis ×3 of each subject from
// one run, the balancer named, and redis-benchmark under it.
func TestSideBySide(t *testing.T) {
	rep := runReport{Balancer: "HAProxy 2.6.12", RedisBenchmark: "redis-benchmark -t incr -c 200 on the same Redis: 100000 INCR/s"}
	rep.Results = []result{
		{Subject: "counter", Strategy: "mutex", RPS: []float64{50000}},
		{Subject: "counter", Strategy: "mutex ×3", Replicas: 3, RPS: []float64{20000}},
		{Subject: "counter", Strategy: "redis ×3", Replicas: 3, RPS: []float64{15000}},
		{Subject: "notifier", Strategy: "mutex", RateCap: 2000, RPS: []float64{2000}}, // capped: left out
		{Subject: "notifier", Strategy: "redis ×3", Replicas: 3, RateCap: 2000, RPS: []float64{2000}},
	}
	var b strings.Builder
	writeSideBySide(&b, rep)
	assert.Contains(t, b.String(), "with every ×3 behind HAProxy 2.6.12")
	assert.Contains(t, b.String(), "| counter | 50,000 | 20,000 (0.40×) | 15,000 (0.30×) | 0.75× |")
	assert.NotContains(t, b.String(), "| notifier |")
	assert.Contains(t, b.String(), "100000 INCR/s")
}
