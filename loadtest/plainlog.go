package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// plainLog shows the harness's progress where stderr is a log or a pipe
// (CI, `2>run.log`, `| tee`): a line as the builds start and one as they
// end, and one as each version gets its verdict, in the order they come.
// A line is written whole or not at all, and never rewritten: a log keeps
// every byte.
type plainLog struct {
	mu    sync.Mutex // guards w, rows and since
	w     io.Writer
	rows  int       // of the run, once one is under load
	since time.Time // when the builds started
}

func (l *plainLog) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}

func (l *plainLog) planned(vs []version) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rows = len(vs)
}

func (l *plainLog) building(servers int, race bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.since = time.Now()
	fmt.Fprintf(l.w, "loadtest: building %d servers%s…\n", servers, withRace(race))
}

// built says so once, when the last server is built: a line per server
// would say little that the next line does not.
func (l *plainLog) built(done, servers int) {
	if done < servers {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "loadtest: built %d of %d servers in %v\n", done, servers, time.Since(l.since).Round(100*time.Millisecond))
}

func (l *plainLog) running(_, rows int, _ version) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rows = rows
}

func (l *plainLog) rate(float64) {}

// finished writes row i's verdict as it comes, numbered as the row is in
// the table: "loadtest: [3/24] counter mutex: ok ✓ (12,345 req/s, 4.2s)". Rows
// finish in any order (a server's stop is waited for while the next one
// runs), so the numbers need not come in order.
func (l *plainLog) finished(i int, r result) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "loadtest: [%d/%d] %s %s: %s %s%s\n", i+1, l.rows, r.Subject, r.Strategy, r.Verdict, declaredMark(r), finishedNote(r))
}

// finishedNote is a finished row's throughput, as the table's REQ/S column
// gives it (none for a row that crashed or hung before it was measured),
// and how long the row took.
func finishedNote(r result) string {
	var parts []string
	switch {
	case len(r.RPS) > 0 && r.RateCap > 0:
		parts = append(parts, thousands(median(r.RPS))+" req/s, capped")
	case len(r.RPS) > 0:
		parts = append(parts, rpsCell(r)+" req/s")
	}
	if r.Elapsed > 0 {
		parts = append(parts, r.Elapsed.Round(100*time.Millisecond).String())
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func (l *plainLog) status(string)   {}
func (l *plainLog) ended(runReport) {}
