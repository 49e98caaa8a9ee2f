package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// maxRatePoints bounds the live rate kept for the row under load: ten
// minutes of it at one point every rateEvery, more than any row takes.
const maxRatePoints = 1200

// webState is what the live page shows, as the harness has told it: a
// browser that connects gets all of it as one "state" event, and then each
// change as an event of its own (webEvents in webstream.go). The page's mu
// guards it; its JSON is what page.js calls state.
type webState struct {
	Phase   string      `json:"phase"` // "starting", "building", "running" or "ended"
	Race    bool        `json:"race"`  // the servers are built with -race
	Kind    string      `json:"kind"`  // "servers built with -race", as the table's first line says
	Servers int         `json:"servers"`
	Built   int         `json:"built"`
	Status  string      `json:"status"`  // what else the harness is doing, or ""
	Rows    []*webRow   `json:"rows"`    // by row; nil until running reaches it
	Current int         `json:"current"` // the row under load, or -1
	Loaded  int         `json:"loaded"`  // the row last under load, or -1
	Rates   []ratePoint `json:"rates"`   // the live rate of row Loaded
	End     *webEnd     `json:"end,omitempty"`

	since  time.Time  // when row Loaded went under load: the rates' time axis
	report *runReport // set once, by ended: /results.json
}

// A webRow is a row of the page's verdict table: the version, and its
// result once it has one.
type webRow struct {
	I        int        `json:"i"`
	Subject  string     `json:"subject"`
	Strategy string     `json:"strategy"` // as the table shows it, ×3 and all
	Package  string     `json:"package"`
	Pending  bool       `json:"pending,omitempty"` // not yet run
	Result   *webResult `json:"result,omitempty"`
}

// A webResult is a row's result with its cells as the terminal's table
// writes them (table.go), so that the page shows the same words.
type webResult struct {
	result
	Mark      string `json:"mark"`       // declaredMark: "✓", or "✗ want race"
	RPSText   string `json:"rps_text"`   // rpsCell: "4,284 ±13%"
	RatioText string `json:"ratio_text"` // ratioCell: "0.81 (0.61–0.81)"
}

// A ratePoint is one measure of the live rate: t seconds after its row
// went under load, rps requests per second over the rateEvery before.
type ratePoint struct {
	T   float64 `json:"t"`
	RPS float64 `json:"rps"`
}

// webEnd is what the page says when the run is over: the table's first
// line (Command: About) and its last (Summary).
type webEnd struct {
	Command     string   `json:"command"` // "go run ./loadtest -web -subject counter"
	About       []string `json:"about"`   // "servers built with -race", "hey load, …", the machine
	Summary     string   `json:"summary"` // "6 versions in 16.1s: every verdict as the lab declares ✓."
	AllDeclared bool     `json:"all_declared"`
}

func newWebState() webState { return webState{Phase: "starting", Current: -1, Loaded: -1} }

func newWebResult(r result) *webResult {
	return &webResult{result: r, Mark: declaredMark(r), RPSText: rpsCell(r), RatioText: ratioCell(r)}
}

// The observer's methods change the state and tell every open page, each
// under the page's mu, which they hold for no longer than that: publish
// never waits for a browser (webstream.go).

// planned names every row before the run, so that the page lists the
// versions still to come.
func (p *webPage) planned(vs []version) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := &p.state
	s.Rows = make([]*webRow, len(vs))
	for i, v := range vs {
		s.Rows[i] = &webRow{I: i, Subject: v.subject.Name, Strategy: v.label(), Package: v.pkg, Pending: true}
	}
	p.publish("planned", map[string]any{"rows": s.Rows})
}

func (p *webPage) building(servers int, race bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := &p.state
	s.Phase, s.Race, s.Kind, s.Servers, s.Built = "building", race, buildKind(race), servers, 0
	p.publish("building", map[string]any{"phase": s.Phase, "race": race, "kind": s.Kind, "servers": servers, "built": 0})
}

func (p *webPage) built(done, servers int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.Built, p.state.Servers = done, servers
	p.publish("built", map[string]any{"built": done, "servers": servers})
}

func (p *webPage) running(i, rows int, v version) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := &p.state
	for len(s.Rows) < rows {
		s.Rows = append(s.Rows, nil)
	}
	if i < 0 || i >= len(s.Rows) {
		return
	}
	row := &webRow{I: i, Subject: v.subject.Name, Strategy: v.label(), Package: v.pkg}
	s.Phase, s.Rows[i], s.Current, s.Loaded, s.Rates, s.since = "running", row, i, i, nil, time.Now()
	p.publish("running", map[string]any{"phase": s.Phase, "current": i, "total": len(s.Rows), "row": row})
}

func (p *webPage) rate(rps float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := &p.state
	if s.Current < 0 || math.IsNaN(rps) || math.IsInf(rps, 0) {
		return // the last tell of a row that has ended
	}
	pt := ratePoint{T: math.Round(time.Since(s.since).Seconds()*100) / 100, RPS: math.Round(rps)}
	if len(s.Rates) == maxRatePoints {
		s.Rates = slices.Delete(s.Rates, 0, 1)
	}
	s.Rates = append(s.Rates, pt)
	p.publish("rate", pt)
}

// finished gives row i its result. Its ratio to the baseline is the
// table's (addRatios) over the rows finished so far; the baselines run
// first, but should one finish after a row of its shape, that row's ratio
// changes, and it is told again.
func (p *webPage) finished(i int, r result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := &p.state
	if i < 0 || i >= len(s.Rows) || s.Rows[i] == nil {
		return
	}
	s.Rows[i].Result = newWebResult(r)
	var done []*webRow
	var results []result
	for _, row := range s.Rows {
		if row != nil && row.Result != nil {
			done = append(done, row)
			results = append(results, row.Result.result)
		}
	}
	addRatios(results)
	for j, row := range done {
		if row.I == i || !sameRatio(row.Result.Ratio, results[j].Ratio) {
			row.Result = newWebResult(results[j])
			p.publish("finished", map[string]any{"row": row})
		}
	}
}

func sameRatio(a, b *ratio) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

func (p *webPage) status(what string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state.Status == what {
		return
	}
	p.state.Status = what
	p.publish("status", map[string]any{"status": what})
}

// ended replaces the rows with the report's, whose ratios are the
// authoritative ones, and keeps the report for /results.json.
func (p *webPage) ended(rep runReport) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := &p.state
	s.Rows = make([]*webRow, len(rep.Results))
	for j, r := range rep.Results {
		s.Rows[j] = &webRow{I: j, Subject: r.Subject, Strategy: r.Strategy, Package: r.Package, Result: newWebResult(r)}
	}
	s.Phase, s.Current, s.End, s.report = "ended", -1, endOf(rep), &rep
	p.publish("ended", map[string]any{"phase": s.Phase, "current": -1, "rows": s.Rows, "end": s.End})
}

// endOf is the page's last words on rep, as printTable says them.
func endOf(rep runReport) *webEnd {
	kind := buildKind(rep.Race)
	if rep.External {
		kind = "a server the lab did not build"
	}
	e := &webEnd{
		Command:     rep.Command,
		About:       []string{kind, fmt.Sprintf("%s load, %d requests × %d bursts, %d at a time", rep.Load, rep.N, rep.Repeat, rep.C), rep.Machine},
		AllDeclared: rep.allDeclared(),
	}
	wall := rep.Wall.Round(100 * time.Millisecond)
	undeclared := 0
	for _, r := range rep.Results {
		if !r.Declared {
			undeclared++
		}
	}
	switch {
	case rep.External:
		e.Summary = fmt.Sprintf("Judged in %v by its behaviour alone.", wall)
	case undeclared == 0:
		e.Summary = fmt.Sprintf("%d versions in %v: every verdict as the lab declares ✓.", len(rep.Results), wall)
	default:
		e.Summary = fmt.Sprintf("%d versions in %v: %d of %d verdicts not as the lab declares ✗.", len(rep.Results), wall, undeclared, len(rep.Results))
	}
	return e
}
