package main

import (
	"fmt"
	"io"
	"sync"
)

// plainLog shows the harness's progress where stderr is a log or a pipe:
// a line as the builds start, and one as each version gets its verdict.
type plainLog struct {
	mu   sync.Mutex // guards w and rows
	w    io.Writer
	rows int
}

func (l *plainLog) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}

func (l *plainLog) building(servers int, race bool) {
	l.printf("loadtest: building %d servers%s…\n", servers, withRace(race))
}

func (l *plainLog) built(int, int) {}

func (l *plainLog) running(_, rows int, _ version) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rows = rows
}

func (l *plainLog) rate(float64) {}

func (l *plainLog) finished(i int, r result) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "loadtest: [%d/%d] %s %s: %s %s\n", i+1, l.rows, r.Subject, r.Strategy, r.Verdict, declaredMark(r))
}

func (l *plainLog) status(string)   {}
func (l *plainLog) ended(runReport) {}
