// Package scenario is the lab's engine for judging a server by its
// behaviour alone, and the vocabulary every subject declares itself in:
//
//   - a Target is a server reached by a base URL: one served in-process by
//     a test, a child process the harness built and started, a server in
//     any language that a learner runs, or several processes behind one
//     address;
//   - a Scenario is one named check of a subject's contract against a
//     Target, and a Drive is a subject's check under the harness's load;
//   - a Failure is one way a broken version fails, recognized by a line of
//     its output, and names the harness's Verdict;
//   - a Battery is a subject's bad-input cases, scored case by case.
//
// It imports no testing: internal/labtest runs the scenarios as subtests,
// and loadtest runs the drives under load. The engines know no subject by
// name; each subject's checking kit (internal/countercheck, internal/matchcheck,
// internal/notifycheck) declares its own Subject.
package scenario

import (
	"context"
	"net"
	"net/http"

	"concurrencylab/internal/childproc"
)

// A Target is a server under test, reached by a base URL.
type Target struct {
	URL    string       // http://127.0.0.1:port, or https:// for TLS
	Client *http.Client // reaches URL: over loopback, TLS, or in-memory connections

	// DialContext, if set, makes the connections to the target (in-memory
	// pipes on a fake clock); websocket clients dial with it too. Nil
	// dials the network.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// Settle, on a fake clock, waits until every goroutine of the test is
	// durably blocked (testing/synctest's Wait): whatever is due at this
	// instant has happened. Nil elsewhere: a scenario that needs it
	// declares FakeClock.
	Settle func()

	// Shutdown begins the server's graceful shutdown, as SIGINT does
	// (server.Config.OnShutdown), and is nil where the version has none
	// or the server is not in this process.
	Shutdown func()

	// Load sends bursts of load at the target: the harness's load
	// generator (hey, ab, wrk), or the test kit's goroutines.
	Load Load

	// Process is the server's process, where the lab started it as a
	// child (the harness's built versions, a -cmd server): a drive can
	// wait for it to exit and read what it wrote. Nil elsewhere.
	Process *childproc.Process

	// DrawTo, if set, is the file (HTML) where a drive draws a history
	// that it found wrong: the harness's, beside its report.
	DrawTo string

	// Replicas are the base URLs of the replicas behind URL, where the
	// target is several servers behind a proxy: a drive can ask each one
	// what it holds. Nil for a single server.
	Replicas []string
}

// Needs says what a scenario needs of its target beyond a base URL.
type Needs uint8

const (
	// FakeClock: it runs in a testing/synctest bubble, on a fake clock
	// and over in-memory connections, and may call Target.Settle. The
	// target is in-process.
	FakeClock Needs = 1 << iota
	// HTTP2: it is served over TLS with HTTP/2, as the seed's matchmaker
	// was.
	HTTP2
	// Shutdown: it calls Target.Shutdown; the target is in-process.
	Shutdown
)

// A Scenario is one named check of a subject's contract, run against a
// fresh server. It returns nil if the server behaved as the contract
// says, or the first deviation; an error a Failure made (Failure.Errorf)
// names the way it failed.
type Scenario struct {
	Name  string
	Needs Needs
	Run   func(ctx context.Context, tg *Target) error
}

// A Drive is a subject's check under the harness's load: it sends bursts
// through tg.Load, checks the subject's invariants through the server's own
// API, and returns what it checked, as one line of evidence for the
// verdict table. Its error names the verdict through its Failure (see
// VerdictOf).
type Drive func(ctx context.Context, tg *Target) (evidence string, err error)

// A Subject is everything the engines need to know of one subject: the
// scenarios of its test suite, its drive under load, and its battery of bad
// input.
type Subject struct {
	Name      string     // counter, matchmaker, notifier
	Contract  string     // the paths a server must serve, in one line, for -help
	Scenarios []Scenario // its test suite, in order
	Drive     Drive      // its check under load
	Battery   Battery    // its bad-input cases
}

// Scenario returns the subject's scenario called name.
func (s Subject) Scenario(name string) (Scenario, bool) {
	for _, sc := range s.Scenarios {
		if sc.Name == name {
			return sc, true
		}
	}
	return Scenario{}, false
}
