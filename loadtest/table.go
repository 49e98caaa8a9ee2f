package main

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"concurrencylab/internal/scenario"
)

// A ratio is a version's throughput over the baseline's in the same run:
// the median over its bursts, and the lowest and highest burst, each over
// the baseline's median.
type ratio struct {
	Median float64 `json:"median"`
	Low    float64 `json:"low"`
	High   float64 `json:"high"`
}

// addRatios sets every result's ratio to the median throughput of the
// baseline under the same shape of load.
func addRatios(results []result) {
	base := map[scenario.Shape]float64{}
	for _, r := range results {
		if r.Subject == "baseline" && len(r.RPS) > 0 {
			base[r.Shape] = median(r.RPS)
		}
	}
	for j := range results {
		rps, b := results[j].RPS, base[results[j].Shape]
		if len(rps) == 0 || b == 0 || results[j].RateCap > 0 {
			continue
		}
		results[j].Ratio = &ratio{Median: median(rps) / b, Low: slices.Min(rps) / b, High: slices.Max(rps) / b}
	}
}

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

// spread is half the range of xs, as a fraction of their median.
func spread(xs []float64) float64 {
	m := median(xs)
	if m == 0 {
		return 0
	}
	return (slices.Max(xs) - slices.Min(xs)) / 2 / m
}

// printTable writes the verdict table, evidence last so that a long line
// wraps without breaking the columns. On a terminal of width columns (0:
// no limit, as in a file, a pipe or a report) each row's evidence is cut to
// fit the line in it, so that the table reads on a projector; -json and
// -report keep all of it, and a line under the table says so.
func printTable(w io.Writer, rep runReport, width int) {
	kind := buildKind(rep.Race)
	if rep.External {
		kind = "a server the lab did not build"
	}
	fmt.Fprintf(w, "%s: %s; %s load, %d requests × %d bursts, %d at a time; %s\n\n",
		rep.Command, kind, rep.Load, rep.N, rep.Repeat, rep.C, rep.Machine)
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SUBJECT\tSTRATEGY\tVERDICT\t\tREQ/S\t×BASELINE\tP50\tP99\tEVIDENCE")
	for _, r := range rep.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.Subject, r.Strategy, r.Verdict, declaredMark(r), rpsCell(r), ratioCell(r),
			latency(r.P50), latency(r.P99), r.Evidence)
	}
	tw.Flush()
	if fitEvidence(w, table.String(), rep.Results, width) {
		fmt.Fprintf(w, "evidence cut to the terminal's %d columns: -json or -report FILE for all of it\n", width)
	}
	for _, r := range rep.Results {
		if r.Drawing != "" {
			fmt.Fprintf(w, "history of %s %s drawn: %s\n", r.Subject, r.Strategy, r.Drawing)
		}
	}
	if rep.External {
		for _, r := range rep.Results {
			if r.Contract != nil {
				fmt.Fprintf(w, "\ncontract: %s\n", r.Contract)
			}
		}
		fmt.Fprintf(w, "\nJudged in %v by its behaviour alone: the verdict rests on the invariants, since the race\ndetector cannot see into another process.\n", rep.Wall.Round(100*time.Millisecond))
		return
	}
	fmt.Fprintf(w, "\n%d versions in %v. ✓: the verdict the lab declares (the naive versions fail on purpose).\n",
		len(rep.Results), rep.Wall.Round(100*time.Millisecond))
	if rep.Balancer != "" || rep.Redis != "" {
		line := "×3: three replicas behind a round-robin proxy" + behind(rep) + "."
		if rep.Redis != "" {
			line += " " + rep.Redis + "."
		}
		fmt.Fprintln(w, line)
	}
	if lines := describeCosts(rep.ReplicaCosts); len(lines) > 0 && !rep.Race {
		fmt.Fprintf(w, "Beyond one process, on the same load: %s.\n", strings.Join(lines, "; "))
	}
	if rep.RedisBenchmark != "" {
		fmt.Fprintln(w, rep.RedisBenchmark+".")
	}
}

// evidenceFloor is the least of a row's evidence that a cut leaves: where
// the other columns already fill the terminal, the line wraps anyway, and
// a few words of the evidence say more than none.
const evidenceFloor = 20

// fitEvidence writes the table that tabwriter laid out (a header, then a
// line per result), cutting each row's evidence, its last column, so that
// the line has at most width runes, but never below evidenceFloor; width 0
// keeps every line whole. It reports whether it cut any. Every rune counts
// as one column, as tabwriter counts them: the table has no wide
// characters.
func fitEvidence(w io.Writer, table string, results []result, width int) (cut bool) {
	lines := strings.SplitAfter(table, "\n")
	for i, line := range lines {
		if width > 0 && i >= 1 && i <= len(results) {
			var wasCut bool
			line, wasCut = cutEvidence(line, results[i-1].Evidence, width)
			cut = cut || wasCut
		}
		io.WriteString(w, line)
	}
	return cut
}

// cutEvidence cuts evidence, the end of line (before its newline), to fit
// the line in width runes, keeping at least evidenceFloor of them.
func cutEvidence(line, evidence string, width int) (string, bool) {
	body, newline := strings.CutSuffix(line, "\n")
	prefix, isLast := strings.CutSuffix(body, evidence)
	if !isLast || evidence == "" {
		return line, false // tabwriter changed it: leave the line whole
	}
	keep := max(width-utf8.RuneCountInString(prefix), evidenceFloor)
	if utf8.RuneCountInString(evidence) <= keep {
		return line, false
	}
	line = prefix + string([]rune(evidence)[:keep-1]) + "…"
	if newline {
		line += "\n"
	}
	return line, true
}

func buildKind(race bool) string {
	if race {
		return "servers built with -race"
	}
	return "servers built without -race"
}

func declaredMark(r result) string {
	if r.Declared {
		return "✓"
	}
	want := make([]string, len(r.Want))
	for i, v := range r.Want {
		want[i] = string(v)
	}
	return "✗ want " + strings.Join(want, " or ")
}

// rpsCell is the median throughput and its spread over the bursts.
func rpsCell(r result) string {
	if len(r.RPS) == 0 {
		return "-"
	}
	cell := thousands(median(r.RPS))
	if r.RateCap > 0 {
		return cell + " (capped)"
	}
	if len(r.RPS) > 1 {
		cell += fmt.Sprintf(" ±%.0f%%", 100*spread(r.RPS))
	}
	return cell
}

func ratioCell(r result) string {
	if r.Ratio == nil {
		return "-"
	}
	if r.Ratio.Low == r.Ratio.High {
		return fmt.Sprintf("%.2f", r.Ratio.Median)
	}
	return fmt.Sprintf("%.2f (%.2f–%.2f)", r.Ratio.Median, r.Ratio.Low, r.Ratio.High)
}

func latency(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond: // a loopback request: ab and wrk time it to the microsecond
		return d.Round(time.Microsecond).String()
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	default:
		return d.Round(time.Millisecond).String()
	}
}

// thousands formats 12345.6 as "12,346".
func thousands(x float64) string {
	s := fmt.Sprintf("%.0f", x)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
