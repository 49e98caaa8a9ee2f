package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"unicode/utf8"

	"golang.org/x/term"
)

// forTerminalOrLog is how the harness shows its progress on stderr: a
// progress line that rewrites itself on a terminal, or a plain line per
// version in a log or a pipe, so that nobody waits in silence for the table.
func forTerminalOrLog(stderr io.Writer) observer {
	if f, isFile := stderr.(*os.File); isFile {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			return &progress{tty: f, width: func() int { return terminalWidth(f) }}
		}
	}
	return &plainLog{w: stderr}
}

// terminalWidth is the number of columns of the terminal w writes to, or 0
// when w is not a terminal (a file, a pipe, a buffer) or its size is not
// known.
func terminalWidth(w io.Writer) int {
	f, isFile := w.(*os.File)
	if !isFile {
		return 0
	}
	cols, _, err := term.GetSize(int(f.Fd()))
	if err != nil || cols <= 0 {
		return 0
	}
	return cols
}

// progress shows what the harness is doing on one line of a terminal.
type progress struct {
	mu    sync.Mutex // guards the line and what is written to tty
	tty   io.Writer
	width func() int // the terminal's columns, asked at each show: the window may be resized; 0: unknown
	shown bool       // whether a line is on the screen
	row   string     // "[3/24] counter mutex", the row under load
}

// eraseLine takes the cursor back to the start of the line and erases the
// line: whatever was shown there, however long, is gone, without
// overwriting it with spaces that could wrap on a narrower window.
const eraseLine = "\r\x1b[K"

// show replaces the progress line.
func (p *progress) show(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.showLocked(fmt.Sprintf(format, args...))
}

// showLocked replaces the progress line with line, cut to fit the
// terminal: a line that wraps leaves its first part behind, above the
// next one, at every show.
func (p *progress) showLocked(line string) {
	fmt.Fprint(p.tty, eraseLine+fitLine(line, p.width()-1))
	p.shown = true
}

// fitLine cuts line to at most cols runes, ending in … when it was cut;
// cols < 1 is no limit. The progress line leaves the last column free for
// the cursor: a line that fills it wraps at once on some terminals. Every
// rune counts as one column, … and × too; the harness writes no wide
// characters.
func fitLine(line string, cols int) string {
	if cols < 1 || utf8.RuneCountInString(line) <= cols {
		return line
	}
	runes := []rune(line)
	return string(runes[:cols-1]) + "…"
}

func (p *progress) planned([]version) {}

func (p *progress) building(servers int, race bool) {
	p.show("building %d servers%s…", servers, withRace(race))
}

func (p *progress) built(done, servers int) { p.show("built %d of %d servers", done, servers) }

func (p *progress) running(i, rows int, v version) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.row = fmt.Sprintf("[%d/%d] %s %s", i+1, rows, v.subject.Name, v.label())
	p.showLocked(p.row + ": under load…")
}

func (p *progress) rate(rps float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.showLocked(fmt.Sprintf("%s: under load, %s req/s", p.row, thousands(rps)))
}

func (p *progress) finished(int, result) {}

// status shows what; "" erases the line, before the table is printed.
func (p *progress) status(what string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.row = ""
	if what == "" {
		if p.shown {
			fmt.Fprint(p.tty, eraseLine)
			p.shown = false
		}
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
