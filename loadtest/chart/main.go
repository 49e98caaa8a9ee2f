// Command chart draws the harness's throughput chart: a horizontal bar a
// version, its median requests per second, with its lowest and highest
// burst as an error bar. The harness (loadtest/chart.go) says what to draw,
// as JSON on the standard input, when it writes -report FILE.md, and this
// writes FILE.png beside the table:
//
//	{"title": "...", "x_label": "...", "bars": [
//	  {"label": "counter mutex", "kind": "fix", "median": 11280, "low": 10800, "high": 11600}, ...]}
//
// A bar's kind is its color: baseline (grey), fix (green) or broken (red,
// broken on purpose); a bar with no median has its label only.
//
// It is a module of its own (loadtest/chart/go.mod), the one part of the
// lab that uses gonum.org/v1/plot, so that the learner's `go test -race
// ./...` never downloads or compiles a plotting library: a pattern such as
// ./... in the root module does not reach into a nested module. For the
// same reason it runs in its own folder: go -C loadtest/chart run . -o
// FILE.png.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"io"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// A chart is what the harness asks for: its chart and chartBar types.
type chart struct {
	Title  string `json:"title"`
	XLabel string `json:"x_label"`
	Bars   []bar  `json:"bars"`
}

type bar struct {
	Label  string  `json:"label"`
	Kind   string  `json:"kind"`
	Median float64 `json:"median"`
	Low    float64 `json:"low"`
	High   float64 `json:"high"`
}

// colors are the bars' colors by kind.
var colors = map[string]color.RGBA{
	"baseline": {R: 0x75, G: 0x75, B: 0x75, A: 0xff},
	"fix":      {R: 0x2e, G: 0x7d, B: 0x32, A: 0xff},
	"broken":   {R: 0xc6, G: 0x28, B: 0x28, A: 0xff},
}

// kinds is the order in which the bars of each kind are drawn.
var kinds = []string{"baseline", "fix", "broken"}

func main() {
	if err := run(os.Args[1:], os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader) error {
	fs := flag.NewFlagSet("chart", flag.ContinueOnError)
	out := fs.String("o", "", "write the chart to this file (PNG)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		return errors.New("usage: go -C loadtest/chart run . -o FILE.png, with the chart as JSON on standard input")
	}
	var c chart
	if err := json.NewDecoder(stdin).Decode(&c); err != nil {
		return fmt.Errorf("reading the chart from standard input: %w", err)
	}
	for _, b := range c.Bars {
		if _, ok := colors[b.Kind]; !ok {
			return fmt.Errorf("bar %q is of kind %q, not one of %v", b.Label, b.Kind, kinds)
		}
	}
	return draw(*out, c)
}

// draw draws c's bars top to bottom, the first at the top.
func draw(path string, c chart) error {
	p := plot.New()
	p.Title.Text = c.Title
	p.X.Label.Text = c.XLabel
	p.X.Min = 0

	n := len(c.Bars)
	names := make([]string, n)
	series := map[string]plotter.Values{}
	for _, k := range kinds {
		series[k] = make(plotter.Values, n)
	}
	var spreads rangeBars
	for i, b := range c.Bars {
		row := n - 1 - i
		names[row] = b.Label
		if b.Median == 0 {
			continue
		}
		series[b.Kind][row] = b.Median
		spreads = append(spreads, rangeBar{y: float64(row), x: b.Median, low: b.Low, high: b.High})
		p.X.Max = max(p.X.Max, b.High*1.05)
	}
	for _, k := range kinds {
		bars, err := plotter.NewBarChart(series[k], vg.Points(11))
		if err != nil {
			return err
		}
		bars.Horizontal = true
		bars.Color = colors[k]
		bars.LineStyle.Width = 0
		p.Add(bars)
	}
	errBars, err := plotter.NewXErrorBars(spreads)
	if err != nil {
		return err
	}
	p.Add(errBars)
	p.NominalY(names...)
	return p.Save(9*vg.Inch, vg.Length(n)*0.32*vg.Inch+1.2*vg.Inch, path)
}

// rangeBars are the lowest-to-highest range of each bar, for
// plotter.NewXErrorBars.
type rangeBar struct{ y, x, low, high float64 }
type rangeBars []rangeBar

func (r rangeBars) Len() int                        { return len(r) }
func (r rangeBars) XY(i int) (float64, float64)     { return r[i].x, r[i].y }
func (r rangeBars) XError(i int) (float64, float64) { return r[i].x - r[i].low, r[i].high - r[i].x }
