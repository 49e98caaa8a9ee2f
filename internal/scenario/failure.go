package scenario

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// A Verdict is what the harness concludes about one version under load.
type Verdict string

const (
	OK          Verdict = "ok"            // every invariant held, and it stopped cleanly
	Race        Verdict = "race"          // the race detector reported a data race
	Crashed     Verdict = "crashed"       // the process exited on its own
	Hung        Verdict = "hung"          // a request got no answer within its deadline
	Leaked      Verdict = "leaked"        // something that should have gone (a subscriber) stayed
	LostUpdates Verdict = "lost updates"  // fewer changes counted than were acknowledged
	StaleReads  Verdict = "stale reads"   // every change counted, but a read answered an older state
	Missed      Verdict = "missed events" // a subscriber did not receive changes it should have
	Split       Verdict = "split"         // replicas behind one address each hold their own part of the state
	Broken      Verdict = "broken"        // another invariant failed: unbalanced stats, a wrong pair
)

// A Failure is one way a broken version fails, as its seed says it does.
// It is recognized by a line of output (the child process's, in a test;
// the server's, in the harness) that matches Pattern, and it names the
// Verdict the harness gives.
//
// A Failure made by Marked has a marker: the scenarios report it with
// Errorf, whose message starts with the marker, so that the line that
// says so matches Pattern.
type Failure struct {
	Name    string
	Pattern *regexp.Regexp
	Verdict Verdict
	marker  string
}

// Marked returns the Failure that a scenario reports with Errorf: its
// messages start with marker and ": ".
func Marked(name, marker string, v Verdict) Failure {
	return Failure{Name: name, Pattern: regexp.MustCompile(regexp.QuoteMeta(marker) + ": "), Verdict: v, marker: marker}
}

// InOutput returns the Failure recognized by a line of output that
// matches pattern, such as the runtime's "fatal error: ..." or a panic.
func InOutput(name, pattern string, v Verdict) Failure {
	return Failure{Name: name, Pattern: regexp.MustCompile(pattern), Verdict: v}
}

// Errorf returns an error that reports f: "marker: message".
func (f Failure) Errorf(format string, args ...any) error {
	if f.marker == "" {
		panic("scenario: Errorf on " + f.Name + ", which has no marker: make it with Marked")
	}
	return &Error{Failure: f, Detail: fmt.Sprintf(format, args...)}
}

// An Error is a scenario's report of a Failure.
type Error struct {
	Failure Failure
	Detail  string // what was seen, without the marker
	Drawing string // a file that draws what was seen (HTML), or empty
}

// Drawn records, in the Error that err is or wraps, that path draws what
// it reports.
func Drawn(err error, path string) {
	var e *Error
	if errors.As(err, &e) {
		e.Drawing = path
	}
}

// Drawing is the file that draws what err reports, or "".
func Drawing(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Drawing
	}
	return ""
}

func (e *Error) Error() string { return e.Failure.marker + ": " + e.Detail }

// In reports whether err is f's report (made by f.Errorf).
func (f Failure) In(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Failure.marker == f.marker && e.Failure.Name == f.Name
}

// Explain is the evidence an error gives, as one line: its message without
// its Failure's marker (the verdict says it), keeping whatever context
// wraps it.
func Explain(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return strings.Replace(err.Error(), e.Failure.marker+": ", "", 1)
	}
	return err.Error()
}

// VerdictOf is the verdict an error names: its Failure's, if a Failure
// made it (see Errorf), or else Broken. A nil error is OK.
func VerdictOf(err error) Verdict {
	var e *Error
	switch {
	case err == nil:
		return OK
	case errors.As(err, &e):
		return e.Failure.Verdict
	}
	return Broken
}

// The failures any subject can show.
var (
	// DataRace is the race detector's report.
	DataRace = InOutput("data race", `^WARNING: DATA RACE`, Race)
	// ConcurrentMapWrites is the runtime's own check on a map that
	// goroutines write at once.
	ConcurrentMapWrites = InOutput("concurrent map writes",
		`^fatal error: concurrent map (writes|read and map write|iteration and map write)`, Crashed)
	// HungRequest is a request that got no answer within its deadline.
	HungRequest = Marked("a hang", "hung", Hung)
	// ServerDied is a server that exited, or stopped answering, during a
	// scenario.
	ServerDied = Marked("a crash", "crashed", Crashed)
)
