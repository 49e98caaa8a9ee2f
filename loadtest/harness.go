package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"concurrencylab/internal/childproc"
	"concurrencylab/internal/cluster"
	"concurrencylab/internal/scenario"
)

// Child-process timing.
const (
	// startWait bounds how long a server may take to say where it listens
	// and to answer its first request.
	startWait = 15 * time.Second
	// stopWait is how long a server gets to exit after SIGINT before it is
	// killed: a little more than the 10s internal/server's shutdown gives
	// requests in flight, after which a server exits 1 by itself.
	stopWait = 12 * time.Second
	// dyingWait is how long a server whose connections broke gets to exit,
	// if it is dying: the runtime prints a stack and exits in milliseconds.
	dyingWait = time.Second
)

// A result is one row of the verdict table.
type result struct {
	Subject  string             `json:"subject"`
	Strategy string             `json:"strategy"`
	Package  string             `json:"package"`
	Verdict  scenario.Verdict   `json:"verdict"`
	Want     []scenario.Verdict `json:"want"`
	Declared bool               `json:"as_declared"` // Verdict is one of Want
	Evidence string             `json:"evidence"`
	ExitCode int                `json:"exit_code"` // -1: killed by a signal (hung)

	// Contract is the score of a server the lab did not build on its
	// subject's battery of bad input (-url, -cmd).
	Contract *scenario.Score `json:"contract,omitempty"`

	// Replicas is how many processes served it behind a proxy; 0 is one
	// process, with no proxy.
	Replicas int `json:"replicas,omitempty"`

	Load      string         `json:"load"`                 // the load generator
	Shape     scenario.Shape `json:"shape"`                // of the load
	RateCap   float64        `json:"rate_cap,omitempty"`   // requests per second the load was capped at
	Requests  int            `json:"requests"`             // answered, over every burst
	RPS       []float64      `json:"rps,omitempty"`        // answers per second, one per burst
	Ratio     *ratio         `json:"ratio,omitempty"`      // to the no-op baseline
	P50       time.Duration  `json:"p50_ns,omitempty"`     // latency in the median burst
	P99       time.Duration  `json:"p99_ns,omitempty"`     //
	Elapsed   time.Duration  `json:"elapsed_ns,omitempty"` // the whole run of this version
	StartFail string         `json:"start_error,omitempty"`
	// Drawing is the HTML file that draws the history its drive found
	// wrong (porcupine's), or empty.
	Drawing string `json:"drawing,omitempty"`
}

// drawingPath is where the history of the version called slug is drawn
// if it is found wrong: beside the -report, or in the temporary directory.
func (o options) drawingPath(slug string) string {
	dir := os.TempDir()
	if o.report != "" {
		dir = filepath.Dir(o.report)
	}
	return filepath.Join(dir, "history-"+slug+".html")
}

// runVersion starts v's server from bin and lets v's drive load and check
// it; then it asks the server to stop. The function it returns waits for
// the server to exit, reads what it wrote for what the runtime saw, and
// makes the verdict. Stopping may take seconds (net/http's Shutdown gives a
// connection that a client opened but never used 5s), and meanwhile the
// next version can run: a server shutting down is idle.
func runVersion(ctx context.Context, v version, bin string, opts options, l loader) (finish func() result) {
	start := time.Now()
	res := result{Subject: v.subject.Name, Strategy: v.label(), Package: v.pkg, Want: v.want(opts.race), Shape: v.subject.loadShape(), Replicas: v.replicas}
	if v.subject.heyOnly {
		l = heyLoader{}
	}
	res.Load = l.name()
	d, tg, load, err := deploy(ctx, v, bin, opts, l, res.Shape)
	if err != nil {
		res.Verdict, res.Evidence, res.StartFail = scenario.Broken, "did not start: "+err.Error(), err.Error()
		return func() result { return res }
	}
	tg.DrawTo = opts.drawingPath(v.slug())
	evidence, err := v.drive()(ctx, tg)
	res.Drawing = scenario.Drawing(err)
	tg.Client.CloseIdleConnections()
	res.measured(load)
	res.Elapsed = time.Since(start)
	verdict := scenario.VerdictOf(err)
	if err != nil {
		evidence = scenario.Explain(err)
	}

	// A crash explains whatever the drive saw after it.
	if !d.Running() && (verdict != scenario.Crashed || evidence == "" || scenario.ServerDied.In(err)) {
		verdict, evidence = scenario.Crashed, childproc.CrashIn(d.Output())
	}
	stopped := make(chan bool, 1)
	if verdict == scenario.Hung {
		d.Kill() // a hung server would only hang its shutdown too
		stopped <- false
	} else {
		go func() { stopped <- d.Stop(stopWait) }()
	}

	return func() result {
		if !<-stopped && verdict == scenario.OK {
			verdict, evidence = scenario.Hung, fmt.Sprintf("did not stop within %v of SIGINT", stopWait)
		}
		res.ExitCode = d.ExitCode()
		// The race detector's report explains whatever else went wrong.
		race, found := childproc.RaceIn(d.Output())
		switch {
		case found:
			verdict, evidence = scenario.Race, race
		case opts.race && v.replicas > 1 && verdict != scenario.OK:
			// The lesson of the replica rows: the race is between
			// processes, where no race detector looks.
			evidence += fmt.Sprintf("; the race detector, built into all %d replicas, reported nothing", v.replicas)
		}
		switch {
		case verdict == scenario.OK && res.ExitCode != 0:
			verdict, evidence = scenario.Broken, fmt.Sprintf("exit %d on SIGINT: %s", res.ExitCode, lastLine(d.Output()))
		case verdict == scenario.Crashed:
			if evidence == "" {
				evidence = "exited: " + lastLine(d.Output())
			}
			evidence += fmt.Sprintf(" (exit %d)", res.ExitCode)
		}
		res.Verdict, res.Evidence = verdict, evidence
		res.Declared = slices.Contains(res.Want, res.Verdict)
		if opts.verbose {
			fmt.Fprintf(opts.stderr, "==== %s (%s %s): what the server wrote\n%s\n", v.pkg, v.subject.Name, v.label(), d.Output())
		}
		return res
	}
}

// A deployment is a version as the harness runs it: one child process
// (childproc.Process), or replicas behind a proxy (cluster.Cluster).
type deployment interface {
	Running() bool                // every process of it is still running
	AwaitExit(time.Duration) bool // whether one exited within the wait
	Stop(wait time.Duration) bool // as Ctrl-C does; whether it stopped in time
	Kill()
	ExitCode() int
	Output() string // everything it wrote
}

// deploy starts v's server from bin, as one process or as v.replicas
// behind a proxy, and returns it with its target for the drive.
func deploy(ctx context.Context, v version, bin string, opts options, l loader, shape scenario.Shape) (deployment, *scenario.Target, *harnessLoad, error) {
	// Report every race as it happens and exit at once when asked to stop.
	env := append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	if v.replicas == 0 {
		cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, v.flags()...)...)
		cmd.Env = env
		p, err := childproc.Start(ctx, cmd, childproc.Ready{Wait: startWait})
		if err != nil {
			return nil, nil, nil, err
		}
		tg, load := newTarget(p.URL, p, p, l, opts, shape)
		return p, tg, load, nil
	}
	args := v.flags()
	if v.redis {
		rs, err := opts.redis.get(ctx)
		if err != nil {
			return nil, nil, nil, err
		}
		if err := rs.Flush(ctx); err != nil {
			return nil, nil, nil, fmt.Errorf("emptying Redis for the next version: %w", err)
		}
		args = append([]string{"-redis", rs.Addr}, args...)
	}
	c, err := cluster.Start(ctx, cluster.Config{Command: []string{bin}, Args: args, Env: env, Replicas: v.replicas, Balancer: opts.lb})
	if err != nil {
		return nil, nil, nil, err
	}
	opts.balancer.saw(c.Balancer.Name())
	tg, load := newTarget(c.URL, nil, c, l, opts, shape)
	tg.Replicas, load.replicas = c.ReplicaURLs(), true
	return c, tg, load, nil
}

// newTarget is a server at url as a drive's target, loaded by l as opts
// and shape say; p is its process and d what the harness started, if it
// started it (nil, nil: a server it judges at -url).
func newTarget(url string, p *childproc.Process, d deployment, l loader, opts options, shape scenario.Shape) (*scenario.Target, *harnessLoad) {
	load := &harnessLoad{loader: l, opts: opts, shape: shape, url: url, deployed: d}
	tg := &scenario.Target{URL: url, Client: &http.Client{}, Load: load, Process: p}
	return tg, load
}

// harnessLoad is the harness's load generator as a drive sees it: each
// burst measured and kept for the throughput columns.
type harnessLoad struct {
	loader   loader
	opts     options
	shape    scenario.Shape
	url      string
	deployed deployment // nil: a server the harness did not start
	replicas bool       // several behind a proxy
	samples  []scenario.Sample
	rateCap  float64 // of the last burst, if capped
}

// Spec is -n requests, -c at a time, -repeat times for steady load; for
// bursts, clients that come -c at once, in as many bursts as make the same
// number of requests.
//
// Replicas built with -race get one round of bursts, not -repeat: their
// verdicts need no more, and every request there crosses the proxy and,
// for 5_redis, Redis, each slowed several times over by the detector. A
// throughput run (-race=false) gives them every repeat.
func (l *harnessLoad) Spec(path string) (scenario.Burst, int) {
	repeat := l.opts.repeat
	if l.replicas && l.opts.race {
		repeat = 1
	}
	if l.shape != scenario.Bursts {
		return scenario.Burst{Path: path, N: l.opts.n, C: l.opts.c}, repeat
	}
	size := l.opts.c + l.opts.c%2 // every client has a peer
	return scenario.Burst{Path: path, N: size, C: size, NewConns: true}, repeat * max(1, l.opts.n/size)
}

func (l *harnessLoad) CountsExactly() bool { return l.loader.countsExactly() }
func (l *harnessLoad) Short() bool         { return l.opts.short }

// Send drives one burst. A burst whose requests were cut short is most
// often a server dying: it gets a moment to finish, and Send says so if it
// has exited.
func (l *harnessLoad) Send(ctx context.Context, b scenario.Burst) (scenario.Sample, error) {
	l.rateCap = b.QPS
	smp, err := l.loader.run(ctx, l.url, b, l.opts.answers)
	if !l.loader.countsLive() {
		l.opts.answers.add(smp.Answered)
	}
	if err != nil {
		return smp, err
	}
	l.samples = append(l.samples, smp)
	if l.deployed == nil {
		return smp, nil
	}
	if smp.Failed() > 0 {
		l.deployed.AwaitExit(dyingWait)
	}
	if !l.deployed.Running() {
		return smp, scenario.ServerDied.Errorf("the server exited during a burst of %s %s", b.MethodOrGet(), b.Path)
	}
	return smp, nil
}

// measured fills in the throughput columns from the bursts' samples.
func (r *result) measured(l *harnessLoad) {
	r.RateCap = l.rateCap
	if len(l.samples) == 0 {
		return
	}
	for _, smp := range l.samples {
		r.Requests += smp.Answered
		r.RPS = append(r.RPS, smp.RPS())
	}
	// The latencies are the median burst's.
	byRPS := slices.Clone(l.samples)
	slices.SortFunc(byRPS, func(a, b scenario.Sample) int { return cmpFloat(a.RPS(), b.RPS()) })
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

// incPath is the seed's load on the counter store (`ab -n 20000 -c 200
// "127.0.0.1:8000/inc?name=i"`). The baseline serves the same requests, so
// the two rates compare.
const incPath = "/inc?name=i"

// driveBaseline loads the no-op server as the counter is loaded, and checks
// only that it answered every request.
func driveBaseline(ctx context.Context, tg *scenario.Target) (string, error) {
	b, count := tg.Load.Spec(incPath)
	answered, err := scenario.SendAll(ctx, tg, b, count)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d requests answered ok, %d at a time", answered, b.C), nil
}
