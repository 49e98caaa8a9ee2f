package main

import (
	"fmt"
	"os"
	"sync"
)

// progress shows what the harness is doing on one line of a terminal, and
// nothing at all when its output is a file or a pipe (CI logs, -json).
type progress struct {
	mu   sync.Mutex
	tty  *os.File // nil when not a terminal
	last int      // length of the line shown
}

func newProgress(f *os.File) *progress {
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return &progress{}
	}
	return &progress{tty: f}
}

// show replaces the progress line.
func (p *progress) show(format string, args ...any) {
	if p == nil || p.tty == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	line := fmt.Sprintf(format, args...)
	pad := max(p.last-len(line), 0)
	fmt.Fprintf(p.tty, "\r%s%*s", line, pad, "")
	p.last = len(line)
}

// clear removes the progress line, before the table is printed.
func (p *progress) clear() {
	if p == nil || p.tty == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.tty, "\r%*s\r", p.last, "")
	p.last = 0
}
