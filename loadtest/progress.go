package main

import (
	"fmt"
	"io"
	"os"
	"sync"
)

// forTerminalOrLog is how the harness shows its progress on stderr: a
// progress line that rewrites itself on a terminal, or a plain line per
// version in a log or a pipe, so that nobody waits in silence for the table.
func forTerminalOrLog(stderr io.Writer) observer {
	if f, isFile := stderr.(*os.File); isFile {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return &progress{tty: f}
		}
	}
	return &plainLog{w: stderr}
}

// progress shows what the harness is doing on one line of a terminal.
type progress struct {
	mu   sync.Mutex // guards the line and what is written to tty
	tty  *os.File
	last int    // length of the line shown
	row  string // "[3/24] counter mutex", the row under load
}

// show replaces the progress line.
func (p *progress) show(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.showLocked(fmt.Sprintf(format, args...))
}

func (p *progress) showLocked(line string) {
	pad := max(p.last-len(line), 0)
	fmt.Fprintf(p.tty, "\r%s%*s", line, pad, "")
	p.last = len(line)
}

func (p *progress) building(servers int, race bool) {
	p.show("building %d servers%s…", servers, withRace(race))
}

func (p *progress) built(done, servers int) { p.show("built %d of %d servers", done, servers) }

func (p *progress) running(i, rows int, v version) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.row = fmt.Sprintf("[%d/%d] %s %s", i+1, rows, v.subject, v.label())
	p.showLocked(p.row + ": under load…")
}

func (p *progress) rate(rps float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.showLocked(fmt.Sprintf("%s: under load, %s req/s", p.row, thousands(rps)))
}

func (p *progress) finished(int, result) {}

// status shows what; "" clears the line, before the table is printed.
func (p *progress) status(what string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.row = ""
	if what == "" {
		fmt.Fprintf(p.tty, "\r%*s\r", p.last, "")
		p.last = 0
		return
	}
	p.showLocked(what)
}

func (p *progress) ended(runReport) {}

func withRace(race bool) string {
	if race {
		return " with -race"
	}
	return ""
}
