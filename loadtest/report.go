package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// A target is a throughput the lab promises for a safe version: its ratio
// to the no-op baseline under a saturating load, in a run without -race.
type target struct {
	pkg string
	min float64
}

var targets = []target{
	{"2_mutex/counter", 0.95},
	{"3_channel-commands/counter", 0.90},
	{"2_mutex/matchmaker", 0.90},
	{"3_channel-commands/matchmaker", 0.90},
}

// writeReport writes rep as Markdown to path, and then its chart beside it
// as a PNG of the same name (see writeChart): a chart that fails leaves
// the table written.
func writeReport(path string, rep runReport) error {
	chart := strings.TrimSuffix(path, filepath.Ext(path)) + ".png"
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Load test results\n\n")
	fmt.Fprintf(&b, "Written by the harness, not by hand: `%s`, %s, on %s (%s).\n",
		rep.Command, rep.Date.Format("2006-01-02"), rep.Machine, buildKind(rep.Race))
	fmt.Fprintf(&b, "Load: %s, %d requests per burst, %d at a time, %d bursts per version. The whole run took %v.\n\n",
		rep.Load, rep.N, rep.C, rep.Repeat, rep.Wall.Round(time.Second))
	fmt.Fprintf(&b, "A ✓ marks the verdict the lab declares for that version: the naive ones fail on purpose, each the\n")
	fmt.Fprintf(&b, "way its seed says, and `4_panic-safety` shows what a panic does. Requests per second are the\n")
	fmt.Fprintf(&b, "median over the bursts, ± half their range; × baseline is the same over the no-op server's median\n")
	fmt.Fprintf(&b, "in this run, with the lowest and highest burst.\n\n")
	if rep.Balancer != "" || rep.Redis != "" {
		fmt.Fprintf(&b, "A strategy marked ×3 ran as three replicas behind a round-robin proxy%s (`go run ./loadtest/cluster`).\n", behind(rep))
		if rep.Redis != "" {
			fmt.Fprintf(&b, "%s.\n", rep.Redis)
		}
		fmt.Fprintln(&b)
	}
	if lines := describeCosts(rep.ReplicaCosts); len(lines) > 0 && !rep.Race {
		fmt.Fprintf(&b, "Beyond one process, on the same load (the mutex ×3 against the mutex is the proxy hop and three processes\nsharing the cores; a shared store against the mutex ×3 is what keeping the state elsewhere costs on top):\n\n")
		for _, l := range lines {
			fmt.Fprintf(&b, "- %s\n", l)
		}
		fmt.Fprintln(&b)
		writeSideBySide(&b, rep)
	}

	fmt.Fprintf(&b, "| subject | strategy | verdict | | req/s | × baseline | p50 | p99 | evidence |\n")
	fmt.Fprintf(&b, "|---|---|---|---|--:|--:|--:|--:|---|\n")
	for _, r := range rep.Results {
		fmt.Fprintf(&b, "| %s | [%s](../%s) | **%s** | %s | %s | %s | %s | %s | %s |\n",
			r.Subject, r.Strategy, r.Package, r.Verdict, declaredMark(r), rpsCell(r), ratioCell(r),
			latency(r.P50), latency(r.P99), markdownCell(r.Evidence))
	}
	for _, r := range rep.Results {
		if r.Drawing != "" {
			fmt.Fprintf(&b, "\nThe history of %s %s, drawn: [%s](%s) (porcupine's drawing; the first wrong answer is marked).\n",
				r.Subject, r.Strategy, filepath.Base(r.Drawing), filepath.Base(r.Drawing))
		}
	}
	fmt.Fprintf(&b, "\n![Requests per second by version](%s)\n\n", filepath.Base(chart))
	fmt.Fprintf(&b, "In the chart, green: the fixes; red: broken on purpose; grey: the no-op baseline. A capped\n")
	fmt.Fprintf(&b, "load (the notifier's, whose own subscribers must keep up) measures the cap, not the server.\n\n")
	writeTargets(&b, rep)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return err
	}
	if err := writeChart(context.Background(), chart, rep); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	return nil
}

// writeTargets checks the throughput targets, in a run that can.
func writeTargets(b *bytes.Buffer, rep runReport) {
	fmt.Fprintf(b, "## Throughput targets\n\n")
	if rep.Race {
		fmt.Fprintf(b, "Not checked in this run: the race detector slows each version by its own factor. A throughput\n")
		fmt.Fprintf(b, "run checks them: `go run ./loadtest -race=false -load ab -repeat 5 -report docs/throughput.md`.\n")
		return
	}
	fmt.Fprintf(b, "Each safe version's requests per second over the baseline's, as above (%s load): the target is\n", rep.Load)
	fmt.Fprintf(b, "met when the median is at or above it. On a 2-core machine the load generator shares the cores\n")
	fmt.Fprintf(b, "with the server, and the ratio moves by ±10-15%% from run to run: read a miss within the spread\n")
	fmt.Fprintf(b, "as not shown either way, and raise -repeat to narrow it.\n\n")
	fmt.Fprintf(b, "| version | target | × baseline | |\n|---|--:|--:|---|\n")
	for _, t := range targets {
		i := slices.IndexFunc(rep.Results, func(r result) bool { return r.Package == t.pkg })
		if i < 0 {
			continue
		}
		r := rep.Results[i]
		mark := "not measured"
		switch {
		case r.Ratio == nil:
		case r.Ratio.Median >= t.min:
			mark = "met"
		case r.Ratio.High >= t.min:
			mark = "**missed** by the median, within the spread"
		default:
			mark = "**missed**"
		}
		fmt.Fprintf(b, "| %s | ≥ %.2f | %s | %s |\n", t.pkg, t.min, ratioCell(r), mark)
	}
}

func markdownCell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}
