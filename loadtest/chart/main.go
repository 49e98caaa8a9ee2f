// Command chart draws the harness's throughput chart: each version's
// median requests per second as a bar, with its lowest and highest burst
// as an error bar, from a report as `go run ./loadtest -json` prints it.
// The harness runs it for -report FILE.md, to write FILE.png beside the
// table, giving it the report on its standard input. By hand, from the
// lab's root:
//
//	go run ./loadtest -json > /tmp/results.json
//	go -C loadtest/chart run . -o /tmp/results.png /tmp/results.json
//	go -C loadtest/chart run . -o /tmp/results.png < /tmp/results.json
//
// It is a module of its own (loadtest/chart/go.mod), the one part of the
// lab that uses gonum.org/v1/plot, so that the learner's `go test -race
// ./...` never downloads or compiles a plotting library: a pattern such as
// ./... in the root module does not reach into a nested module. For the
// same reason, `go run ./loadtest/chart` from the root does not build it;
// run it in its own folder, as above.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"io"
	"os"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// A runReport is the part of the harness's report (runReport and result in
// loadtest) that the chart draws.
type runReport struct {
	Race    bool     `json:"race"`
	Load    string   `json:"load"`
	Results []result `json:"results"`
}

type result struct {
	Subject  string    `json:"subject"`
	Strategy string    `json:"strategy"`
	Want     []string  `json:"want"`               // the verdicts the lab declares
	RateCap  float64   `json:"rate_cap,omitempty"` // requests per second the load was capped at
	RPS      []float64 `json:"rps,omitempty"`      // answers per second, one per burst
}

// ok is the verdict of a version that held (scenario.OK in the harness).
const ok = "ok"

func main() {
	if err := run(os.Args[1:], os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader) error {
	fs := flag.NewFlagSet("chart", flag.ContinueOnError)
	out := fs.String("o", "", "write the chart to this file (PNG)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go -C loadtest/chart run . -o FILE.png [REPORT.json]\n(REPORT.json as go run ./loadtest -json writes it; without it, the report on standard input)\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 1 {
		fs.Usage()
		return errors.New("give -o FILE.png and at most one report")
	}
	in, name := stdin, "standard input"
	if fs.NArg() == 1 && fs.Arg(0) != "-" {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		in, name = f, fs.Arg(0)
	}
	var rep runReport
	if err := json.NewDecoder(in).Decode(&rep); err != nil {
		return fmt.Errorf("reading the report from %s: %w", name, err)
	}
	return writeChart(*out, rep)
}

// Chart colors: the verdict the lab declares for a working version, for
// one that fails on purpose, and for the baseline.
var (
	okColor      = color.RGBA{R: 0x2e, G: 0x7d, B: 0x32, A: 0xff}
	failingColor = color.RGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff}
	baseColor    = color.RGBA{R: 0x75, G: 0x75, B: 0x75, A: 0xff}
)

// writeChart draws each version's median requests per second as a bar,
// with its lowest and highest burst as an error bar, top to bottom in the
// table's order.
func writeChart(path string, rep runReport) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Requests per second (%s, %s)", rep.Load, buildKind(rep.Race))
	p.X.Label.Text = "requests per second: median of the bursts, with the lowest and highest"
	p.X.Min = 0

	n := len(rep.Results)
	names := make([]string, n)
	colors := []color.RGBA{baseColor, okColor, failingColor}
	series := map[color.RGBA]plotter.Values{}
	for _, c := range colors {
		series[c] = make(plotter.Values, n)
	}
	var spreads rangeBars
	for i, r := range rep.Results {
		row := n - 1 - i // the first result at the top
		names[row] = r.Subject + " " + r.Strategy
		if r.RateCap > 0 {
			names[row] += " (capped)"
		}
		if len(r.RPS) == 0 {
			continue
		}
		m := median(r.RPS)
		series[barColor(r)][row] = m
		spreads = append(spreads, rangeBar{y: float64(row), x: m, low: slices.Min(r.RPS), high: slices.Max(r.RPS)})
	}
	for _, c := range colors {
		bars, err := plotter.NewBarChart(series[c], vg.Points(11))
		if err != nil {
			return err
		}
		bars.Horizontal = true
		bars.Color = c
		bars.LineStyle.Width = 0
		p.Add(bars)
	}
	errBars, err := plotter.NewXErrorBars(spreads)
	if err != nil {
		return err
	}
	p.Add(errBars)
	for _, b := range spreads {
		p.X.Max = max(p.X.Max, b.high*1.05)
	}
	p.NominalY(names...)
	return p.Save(9*vg.Inch, vg.Length(n)*0.32*vg.Inch+1.2*vg.Inch, path)
}

// barColor tells the fixes (crash-on-panic among them: it crashes on its
// poison by design) from the versions broken on purpose.
func barColor(r result) color.RGBA {
	switch {
	case r.Subject == "baseline":
		return baseColor
	case slices.Contains(r.Want, ok) || r.Strategy == "crash-on-panic":
		return okColor
	}
	return failingColor
}

// rangeBars are the lowest-to-highest range of each bar, for
// plotter.NewXErrorBars.
type rangeBar struct{ y, x, low, high float64 }
type rangeBars []rangeBar

func (r rangeBars) Len() int                        { return len(r) }
func (r rangeBars) XY(i int) (float64, float64)     { return r[i].x, r[i].y }
func (r rangeBars) XError(i int) (float64, float64) { return r[i].x - r[i].low, r[i].high - r[i].x }

// median and buildKind are the harness's (loadtest/table.go), for the same
// bars and title.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func buildKind(race bool) string {
	if race {
		return "servers built with -race"
	}
	return "servers built without -race"
}
