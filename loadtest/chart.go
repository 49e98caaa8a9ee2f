package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"concurrencylab/internal/gobuild"
	"concurrencylab/internal/scenario"
)

// The chart of -report is what the harness says to draw, a bar a version,
// and loadtest/chart draws it: a module of its own, so that the lab's
// `go test ./...` never compiles a plotting library.
const chartCommand = "loadtest/chart"

// A chart is what loadtest/chart draws, given as JSON on its standard
// input: a horizontal bar a row, top to bottom.
type chart struct {
	Title  string     `json:"title"`
	XLabel string     `json:"x_label"`
	Bars   []chartBar `json:"bars"`
}

// A chartBar is a version's median requests per second, with its lowest
// and highest burst; a version with no rate has its label and no bar.
type chartBar struct {
	Label  string  `json:"label"`
	Kind   string  `json:"kind"` // baseline, fix or broken: its color
	Median float64 `json:"median,omitempty"`
	Low    float64 `json:"low,omitempty"`
	High   float64 `json:"high,omitempty"`
}

// chartOf is rep's chart: each version's median requests per second over
// the bursts, in the table's order.
func chartOf(rep runReport) chart {
	c := chart{
		Title:  fmt.Sprintf("Requests per second (%s, %s)", rep.Load, buildKind(rep.Race)),
		XLabel: "requests per second: median of the bursts, with the lowest and highest",
	}
	for _, r := range rep.Results {
		b := chartBar{Label: r.Subject + " " + r.Strategy, Kind: barKind(r)}
		if r.RateCap > 0 {
			b.Label += " (capped)"
		}
		if len(r.RPS) > 0 {
			b.Median, b.Low, b.High = median(r.RPS), slices.Min(r.RPS), slices.Max(r.RPS)
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

// barKind tells the fixes (crash-on-panic among them: it crashes on its
// poison by design) from the versions broken on purpose.
func barKind(r result) string {
	switch {
	case r.Subject == "baseline":
		return "baseline"
	case slices.Contains(r.Want, scenario.OK) || r.Strategy == "crash-on-panic":
		return "fix"
	}
	return "broken"
}

// writeChart draws rep's chart into path, a PNG, with chartCommand. It is
// run with go run in its own folder, the root of its module (gobuild.Build
// builds the root module's packages, which cannot name a nested module's):
// the first run downloads and compiles gonum/plot, and the go command
// caches the binary it links, so that a later run only checks that it is
// up to date (some 0.2 s).
func writeChart(ctx context.Context, path string, rep runReport) error {
	root, err := gobuild.ModuleRoot(ctx)
	if err != nil {
		return err
	}
	out, err := filepath.Abs(path) // the command runs in its own folder
	if err != nil {
		return err
	}
	spec, err := json.Marshal(chartOf(rep))
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "run", ".", "-o", out)
	cmd.Dir = filepath.Join(root, filepath.FromSlash(chartCommand))
	cmd.Stdin = bytes.NewReader(spec)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("go -C %s run .: %s", chartCommand, msg)
	}
	return nil
}
