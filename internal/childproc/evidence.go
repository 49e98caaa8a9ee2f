package childproc

import (
	"path"
	"regexp"
	"strings"
)

// What the Go runtime and the lab's servers write when something breaks.
const (
	raceHeader       = "WARNING: DATA RACE"
	fatalPrefix      = "fatal error: "
	panicPrefix      = "panic: "
	recoveredMarker  = "http: panic serving "
	crashOnPanicLine = "panic in a handler" // 4_panic-safety/crashonpanic's log message
)

// RaceIn finds the race detector's first report in a server's output
// and sums it up in one line.
func RaceIn(out string) (string, bool) {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) == raceHeader {
			return raceEvidence(lines[i+1:]), true
		}
	}
	return "", false
}

// CrashIn explains, in one line, why a server that exited on its own
// did: the runtime's fatal error, the panic that no one recovered, or the
// crash-on-panic middleware's log line. It returns "" if the output says
// nothing of it.
func CrashIn(out string) string {
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, fatalPrefix):
			return l + where(lines[i+1:])
		case strings.Contains(l, crashOnPanicLine):
			return crashOnPanicEvidence(l)
		}
	}
	// The last panic is the one that ended the process: one recovered
	// earlier (by chi's Recoverer, say) printed the same prefix.
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], panicPrefix) {
			return strings.TrimSuffix(lines[i], " [recovered]") + where(lines[i+1:])
		}
	}
	return ""
}

// raceEvidence sums up a race report, whose lines (after the header) read
//
//	Write at 0x00c000126030 by goroutine 23:
//	  main.(*Store).Inc()
//	      /work/main/1_naive-race/counter/store.go:47 +0xc4
//	  ...
//
//	Previous read at 0x00c000126030 by goroutine 22:
//	  ...
//
// as "DATA RACE: write in main.(*Store).Inc (store.go:47), previous read in
// main.(*Store).Inc (store.go:43)".
func raceEvidence(lines []string) string {
	var accesses []string
	for i, l := range lines {
		if l == "==================" || len(accesses) == 2 {
			break
		}
		m := raceAccess.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		access := strings.ToLower(m[1])
		if fn, loc := mainFrame(lines[i+1:]); fn != "" {
			access += " in " + fn + " (" + loc + ")"
		}
		accesses = append(accesses, access)
	}
	if len(accesses) == 0 {
		return "DATA RACE"
	}
	return "DATA RACE: " + strings.Join(accesses, ", ")
}

// raceAccess matches the first line of each access in a race report.
var raceAccess = regexp.MustCompile(`^((?:Previous )?(?:[Rr]ead|[Ww]rite|[Aa]tomic read|[Aa]tomic write)) at 0x[0-9a-f]+ by `)

// where names the first frame of the program's own code in the stack that
// follows a fatal error or a panic, as " in main.f (file.go:12)".
func where(lines []string) string {
	// The stack starts after a blank line and a "goroutine N [running]:".
	for i, l := range lines {
		if strings.HasPrefix(l, "goroutine ") {
			if fn, loc := mainFrame(lines[i+1:]); fn != "" {
				return " in " + fn + " (" + loc + ")"
			}
			return ""
		}
	}
	return ""
}

// mainFrame finds the first frame of package childproc in a stack (up to the
// blank line that ends it), or else the first outside the runtime, and
// returns its function and file:line.
func mainFrame(stack []string) (fn, loc string) {
	var frames [][2]string // function, file:line
	for i := 0; i+1 < len(stack); i++ {
		l := strings.TrimSpace(stack[i])
		if l == "" {
			break
		}
		next := strings.Fields(strings.TrimSpace(stack[i+1]))
		if !strings.HasSuffix(l, ")") || len(next) == 0 || !strings.Contains(next[0], ".go:") {
			continue
		}
		fn := l[:strings.LastIndexByte(l, '(')] // drop the argument list
		frames = append(frames, [2]string{fn, path.Base(next[0])})
		i++
	}
	for _, f := range frames {
		if strings.HasPrefix(f[0], "main.") {
			return f[0], f[1]
		}
	}
	for _, f := range frames {
		if !strings.HasPrefix(f[0], "runtime.") && !strings.HasPrefix(f[0], "internal/") && !strings.HasPrefix(f[0], "sync") {
			return f[0], f[1]
		}
	}
	return "", ""
}

// crashOnPanicEvidence turns crashonpanic's log line into its reason and
// exit status: `panic="runtime error: ..." exit=70`.
func crashOnPanicEvidence(line string) string {
	msg := "panic in a handler"
	if m := panicAttr.FindStringSubmatch(line); m != nil {
		msg += ": " + strings.Trim(m[1], `"`)
	}
	return msg + " (crash-on-panic middleware)"
}

// panicAttr is the panic="..." attribute of crashonpanic's slog line.
var panicAttr = regexp.MustCompile(`panic=("(?:[^"\\]|\\.)*"|\S+)`)

// RecoveredPanic returns the panic net/http recovered in a handler, as
// "runtime error: ...", or "" if there was none.
func RecoveredPanic(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if _, after, ok := strings.Cut(l, recoveredMarker); ok {
			// "http: panic serving 127.0.0.1:4321: runtime error: ..."
			if _, reason, ok := strings.Cut(after, ": "); ok {
				return reason
			}
		}
		// chi's Recoverer prints " panic: runtime error: ..." and the
		// stack, and keeps serving.
		if l = strings.TrimSpace(l); strings.HasPrefix(l, panicPrefix) {
			return strings.TrimPrefix(l, panicPrefix)
		}
	}
	return ""
}
