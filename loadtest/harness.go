package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// A Verdict is what the harness concludes about one version under load.
type Verdict string

const (
	OK          Verdict = "ok"           // every invariant held, and it stopped cleanly
	Race        Verdict = "race"         // the race detector reported a data race
	Crashed     Verdict = "crashed"      // the process exited on its own
	Hung        Verdict = "hung"         // a request got no answer within its deadline
	Leaked      Verdict = "leaked"       // something that should have gone (a subscriber) stayed
	LostUpdates Verdict = "lost updates" // fewer changes counted than were acknowledged
	Broken      Verdict = "broken"       // another invariant failed: unbalanced stats, failed requests
)

// A version is one server of the lab and the verdict the lab declares for it.
type version struct {
	subject  string   // counter, matchmaker, notifier, panic, baseline
	strategy string   // naive, mutex, channel, crash-on-panic; or the panic demo's name
	pkg      string   // its folder, e.g. "1_naive-race/counter"
	args     []string // flags after -addr
	// want lists the verdicts declared for a -race build and for a plain
	// one: the naive versions fail, and which way depends on the race
	// detector (without it, a racy map crashes or loses updates).
	wantRace, wantPlain []Verdict
	drive               func(*session) outcome
	shape               shape // of its load; the default is steady
	// heyOnly: its load needs what only hey does here, whatever -load
	// says: a new id for each request (the matchmaker's clients), or a
	// capped rate (the notifier's changes, which the harness's own
	// subscribers must keep up with).
	heyOnly bool
}

func (v version) want(race bool) []Verdict {
	if race || v.wantPlain == nil {
		return v.wantRace
	}
	return v.wantPlain
}

// An outcome is a driver's verdict and its one line of evidence: the first
// failure seen, or what was checked.
type outcome struct {
	verdict  Verdict
	evidence string
}

func ok(format string, args ...any) outcome {
	return outcome{OK, fmt.Sprintf(format, args...)}
}

func fail(v Verdict, format string, args ...any) outcome {
	return outcome{v, fmt.Sprintf(format, args...)}
}

// A session is one version's run: its server, the load generator, and the
// samples measured so far.
type session struct {
	ctx     context.Context
	opts    options
	child   *child
	load    loader
	samples []sample
	rateCap float64 // of the load, if capped
	client  *http.Client
}

// measure drives one burst of load and keeps its sample.
func (s *session) measure(spec loadSpec) (sample, error) {
	s.rateCap = spec.QPS
	smp, err := s.load.run(s.ctx, s.child.url, spec)
	if err == nil {
		s.samples = append(s.samples, smp)
	}
	return smp, err
}

// loadRepeatedly drives count bursts of spec (stopping early if the
// server dies) and returns the total 2xx answers. A burst whose requests
// were refused, failed or timed out ends it with a verdict.
func (s *session) loadRepeatedly(spec loadSpec, count int) (okAnswers int, failed *outcome) {
	for range count {
		smp, err := s.measure(spec)
		if err != nil {
			return okAnswers, &outcome{Broken, err.Error()}
		}
		okAnswers += smp.okCount()
		if smp.failed() > 0 {
			// Requests cut short are most often a server dying: give it
			// a moment to finish, and the harness reads why.
			s.child.awaitExit(dyingWait)
		}
		if !s.child.running() {
			return okAnswers, &outcome{Crashed, ""}
		}
		if out := requestFailures(spec, smp); out != nil {
			return okAnswers, out
		}
	}
	return okAnswers, nil
}

// dyingWait is how long a server whose connections broke gets to exit, if
// it is dying: the runtime prints a stack and exits in milliseconds.
const dyingWait = time.Second

// requestFailures turns a burst's unanswered requests into a verdict.
func requestFailures(spec loadSpec, smp sample) *outcome {
	n := smp.failed()
	if n == 0 {
		return nil
	}
	what := fmt.Sprintf("%d of %d %s %s got no answer: %s", n, spec.requests(), spec.method(), spec.Path, smp.firstError())
	if e := smp.firstError(); strings.Contains(e, "Timeout") || strings.Contains(e, "timeout") || strings.Contains(e, "deadline") {
		return &outcome{Hung, what}
	}
	return &outcome{Broken, what}
}

// do sends one request and reads the answer, giving up after wait: a
// request that gets no answer in time is errHung.
func (s *session) do(method, target string, body []byte, wait time.Duration) (int, string, error) {
	ctx, cancel := context.WithTimeout(s.ctx, wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.child.url+target, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, "", fmt.Errorf("%s %s: %w in %v", method, target, errHung, wait)
		}
		return 0, "", err
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(text)), err
}

// checkWait bounds the requests that check a server's state: a server
// under no load answers them in microseconds.
const checkWait = 2 * time.Second

// awaitExit waits for a server that should exit by itself (a poison on a
// crash-on-panic server, a panic in a goroutine) and makes the verdict.
func (s *session) awaitExit(poison string) outcome {
	if !s.child.awaitExit(exitWait) {
		return fail(OK, "%s: still serving %v later", poison, exitWait)
	}
	return fail(Crashed, "%s: %s", poison, crashInOutput(s.child.output()))
}

// exitWait is how long a poisoned server has to exit.
const exitWait = 5 * time.Second

// A result is one row of the verdict table.
type result struct {
	Subject  string    `json:"subject"`
	Strategy string    `json:"strategy"`
	Package  string    `json:"package"`
	Verdict  Verdict   `json:"verdict"`
	Want     []Verdict `json:"want"`
	Declared bool      `json:"as_declared"` // Verdict is one of Want
	Evidence string    `json:"evidence"`
	ExitCode int       `json:"exit_code"` // -1: killed by a signal (hung)

	Load      string        `json:"load"`                 // the load generator
	Shape     shape         `json:"shape"`                // of the load
	RateCap   float64       `json:"rate_cap,omitempty"`   // requests per second the load was capped at
	Requests  int           `json:"requests"`             // answered, over every burst
	RPS       []float64     `json:"rps,omitempty"`        // answers per second, one per burst
	Ratio     *ratio        `json:"ratio,omitempty"`      // to the no-op baseline
	P50       time.Duration `json:"p50_ns,omitempty"`     // latency in the median burst
	P99       time.Duration `json:"p99_ns,omitempty"`     //
	Elapsed   time.Duration `json:"elapsed_ns,omitempty"` // the whole run of this version
	StartFail string        `json:"start_error,omitempty"`
}

// runVersion starts v's server from bin and lets v's driver load and
// check it; then it asks the server to stop. The function it returns
// waits for the server to exit, reads what it wrote for what the runtime
// saw, and makes the verdict. Stopping may take seconds (net/http's
// Shutdown gives a connection that a client opened but never used 5s), and
// meanwhile the next version can run: a server shutting down is idle.
func runVersion(ctx context.Context, v version, bin string, opts options, load loader) (finish func() result) {
	start := time.Now()
	res := result{Subject: v.subject, Strategy: v.strategy, Package: v.pkg, Want: v.want(opts.race), Load: load.name(), Shape: v.shape}
	if res.Shape == "" {
		res.Shape = steady
	}
	c, err := startChild(ctx, bin, v.args...)
	if err != nil {
		res.Verdict, res.Evidence, res.StartFail = Broken, "did not start: "+err.Error(), err.Error()
		return func() result { return res }
	}
	if v.heyOnly {
		load = heyLoader{}
		res.Load = load.name()
	}
	s := &session{ctx: ctx, opts: opts, child: c, load: load, client: &http.Client{}}
	out := v.drive(s)
	s.client.CloseIdleConnections()
	res.summarize(s.samples)
	res.RateCap = s.rateCap
	res.Elapsed = time.Since(start)

	// A crash explains whatever the driver saw after it.
	if !c.running() && (out.verdict != Crashed || out.evidence == "") {
		out = fail(Crashed, "%s", crashInOutput(c.output()))
	}
	stopped := make(chan bool, 1)
	if out.verdict == Hung {
		c.kill() // a hung server would only hang its shutdown too
		stopped <- false
	} else {
		go func() { stopped <- c.stop() }()
	}

	return func() result {
		if !<-stopped && out.verdict == OK {
			out = fail(Hung, "did not stop within %v of SIGINT", stopWait)
		}
		res.ExitCode = c.exitCode()
		// The race detector's report explains whatever else went wrong.
		if evidence, found := raceInOutput(c.output()); found {
			out = fail(Race, "%s", evidence)
		}
		switch {
		case out.verdict == OK && res.ExitCode != 0:
			out = fail(Broken, "exit %d on SIGINT: %s", res.ExitCode, lastLine(c.output()))
		case out.verdict == Crashed:
			if out.evidence == "" {
				out.evidence = "exited: " + lastLine(c.output())
			}
			out.evidence += fmt.Sprintf(" (exit %d)", res.ExitCode)
		}
		res.Verdict, res.Evidence = out.verdict, out.evidence
		res.Declared = slices.Contains(res.Want, res.Verdict)
		if opts.verbose {
			fmt.Fprintf(opts.stderr, "==== %s (%s %s): what the server wrote\n%s\n", v.pkg, v.subject, v.strategy, c.output())
		}
		return res
	}
}

// summarize fills in the throughput columns from the bursts' samples.
func (r *result) summarize(samples []sample) {
	if len(samples) == 0 {
		return
	}
	for _, smp := range samples {
		r.Requests += smp.Answered
		r.RPS = append(r.RPS, smp.rps())
	}
	// The latencies are the median burst's.
	byRPS := slices.Clone(samples)
	slices.SortFunc(byRPS, func(a, b sample) int { return cmpFloat(a.rps(), b.rps()) })
	mid := byRPS[len(byRPS)/2]
	r.P50, r.P99 = mid.P50, mid.P99
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
