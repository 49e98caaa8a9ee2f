// Command loadtest is the lab's harness: it runs every version of every
// subject under real load and prints one verdict table; or it judges one
// server it did not build, in any language, by its subject's contract.
//
//	go run ./loadtest/doctor                # first: can this machine run the lab?
//	go run ./loadtest                       # every version, built with -race
//	go run ./loadtest -subject counter      # one subject
//	go run ./loadtest -race=false -load ab  # a throughput run
//	go run ./loadtest -report docs/results.md
//	go run ./loadtest -subject counter -url http://127.0.0.1:9000       # a server already running
//	go run ./loadtest -subject counter -cmd 'python3 counter.py {port}'  # one it starts
//
// For each version in the registry (registry.go) it builds the server
// (with -race by default), starts it as a child process on a free
// 127.0.0.1 port, lets the subject's drive load it (hey's requester
// package, or ab or wrk; real websocket clients for the notifier) and
// check the subject's invariants through the server's own API, reads what
// the server wrote for data races, fatal errors and panics, notes hangs
// and how the process exited, and stops it. The naive versions are
// declared to fail, each the way its seed says; the table shows whether
// each verdict is the one declared, and the exit status is 0 only if every
// one is. Each run includes a no-op baseline server, and every version's
// throughput is also shown as a ratio to the baseline's in the same run.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"concurrencylab/internal/cluster"
	"concurrencylab/internal/doctor"
	"concurrencylab/internal/gobuild"
	"concurrencylab/internal/redislab"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	gobuild.Cleanup()
	os.Exit(code)
}

// options are the command line's.
type options struct {
	subjects, strategies []string
	n, c, repeat         int
	race                 bool
	jsonOut              bool
	verbose              bool
	report               string
	load                 string
	wrkDuration          time.Duration // of each burst of -load wrk
	short                bool          // leave out the slow checks
	url, cmd             string        // a server the harness did not build
	redisAddr            string        // a Redis already running, for the 5_redis rows
	embeddedRedis        bool          // the embedded Redis even where redis-server is installed
	replicas             bool          // run the rows of replicas behind a proxy too
	lb                   string        // the load balancer in front of them: a cluster kind
	balancer             *balancerSeen // which one they ran behind, for the ×3 line
	redis                *sharedRedis  // the run's Redis
	web                  string        // serve the live page at this address
	stderr               io.Writer     // for -v
	answers              *answers      // every request the loaders make, for the live rate
	warm                 bool          // only compile what the tests and the harness need (warm.go)
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	subject := fs.String("subject", "", "run only these subjects, comma-separated: "+strings.Join(subjectNames(), ", "))
	strategy := fs.String("strategy", "", "run only these strategies, comma-separated: "+strings.Join(strategyNames(), ", "))
	fs.IntVar(&o.n, "n", 2000, "requests per burst of load")
	fs.IntVar(&o.c, "c", 200, "concurrent requests, as in the seeds' ab -n 20000 -c 200")
	fs.IntVar(&o.repeat, "repeat", 3, "bursts of load per version, for the spread of the throughput")
	fs.BoolVar(&o.race, "race", true, "build the servers with the race detector (the verdict run); -race=false for a throughput run")
	fs.BoolVar(&o.jsonOut, "json", false, "print the results as JSON instead of a table")
	fs.BoolVar(&o.verbose, "v", false, "print what each server wrote (its log, race reports, panics) to stderr")
	fs.StringVar(&o.report, "report", "", "also write the results as Markdown to this file, with a chart of throughput beside it (.png)")
	fs.StringVar(&o.load, "load", "hey", "load generator: hey (built in), ab (apache2-utils) or wrk")
	fs.BoolVar(&o.short, "short", false, "leave out the slow checks: the notifier's stalled subscriber, which takes a thousand events or so")
	fs.DurationVar(&o.wrkDuration, "wrk-duration", 3*time.Second, "how long each burst of -load wrk runs")
	fs.StringVar(&o.url, "url", "", "judge a server that is already running at this URL, in any language, by -subject's contract")
	fs.StringVar(&o.redisAddr, "redis", "", "a Redis already running (host:port) for the versions that keep their state there; by default the harness starts redis-server if it is installed, or an embedded one")
	fs.BoolVar(&o.replicas, "replicas", true, "run the rows of three replicas behind a proxy (×3) too; -replicas=false leaves them out")
	fs.BoolVar(&o.embeddedRedis, "embedded-redis", false, "use the embedded Redis (miniredis) even where redis-server is installed")
	fs.StringVar(&o.lb, "lb", "auto", "for the ×3 rows, "+cluster.BalancerFlagHelp)
	fs.StringVar(&o.web, "web", "", "serve a live page of the run at this address (-web alone: "+defaultWebAddr+"), for a projector; it stays up after the run until Ctrl-C")
	fs.BoolVar(&o.warm, "warm", false, "only fill the build cache, for a room of learners: compile every test binary with -race and build the servers the harness runs; runs nothing")
	fs.StringVar(&o.cmd, "cmd", "", "judge the server this command starts (run by sh; {port} in it becomes a free 127.0.0.1 port), by -subject's contract")
	fs.Usage = func() { usage(fs) }
	if err := fs.Parse(webAlone(args)); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	o.subjects, o.strategies = splitList(*subject), splitList(*strategy)
	o.redis = &sharedRedis{kind: redislab.Auto}
	o.balancer = &balancerSeen{}
	var err error
	if o.lb, err = cluster.CheckBalancer(o.lb); err != nil {
		return o, err
	}
	switch {
	case o.redisAddr != "":
		o.redis = &sharedRedis{kind: redislab.External, addr: o.redisAddr}
	case o.embeddedRedis:
		o.redis = &sharedRedis{kind: redislab.Embedded}
	}
	switch {
	case o.n < 2 || o.c < 2 || o.repeat < 1:
		return o, errors.New("-n and -c must be at least 2, -repeat at least 1")
	case o.c > o.n:
		return o, errors.New("-c must not exceed -n")
	case o.redisAddr != "" && o.embeddedRedis:
		return o, errors.New("-redis and -embedded-redis: give one, the Redis that runs or the embedded one")
	case o.url != "" && o.cmd != "":
		return o, errors.New("-url and -cmd: give one, the server that runs or the command that starts it")
	case (o.url != "" || o.cmd != "") && len(o.subjects) != 1:
		return o, fmt.Errorf("-url and -cmd judge one server: say which contract it speaks with -subject (%s)", strings.Join(subjectNames(), ", "))
	case o.cmd != "" && !strings.Contains(o.cmd, portPlaceholder):
		return o, fmt.Errorf("-cmd needs %s where the server's port goes, such as 'python3 counter.py %s'", portPlaceholder, portPlaceholder)
	}
	return o, nil
}

// usage is -help: the commands, the registry's subjects and strategies,
// and the flags.
func usage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprintf(w, `usage: go run ./loadtest [flags]                     every version of the lab, under load: a verdict table
       go run ./loadtest -subject S -url URL            judge a server already running, in any language
       go run ./loadtest -subject S -cmd 'CMD {port}'   judge the server CMD starts, and stop it after
       go run ./loadtest/doctor                         check that this machine can run the lab: run it first

The versions (registry.go), with the verdicts the lab declares:
`)
	for _, v := range versions {
		want := make([]string, len(v.wantRace))
		for i, w := range v.wantRace {
			want[i] = string(w)
		}
		fmt.Fprintf(w, "  %-10s %-15s %-30s %s\n", v.subject.Name, v.label(), v.pkg, strings.Join(want, " or "))
	}
	fmt.Fprintf(w, "\nThe contracts a server is judged by (-url, -cmd):\n")
	for _, s := range subjects {
		fmt.Fprintf(w, "  %-10s %s\n", s.Name, s.Contract)
	}
	fmt.Fprintf(w, "\nFlags:\n")
	fs.PrintDefaults()
}

func subjectNames() []string {
	var names []string
	for _, v := range versions {
		if v.subject.Name != "baseline" && !slices.Contains(names, v.subject.Name) {
			names = append(names, v.subject.Name)
		}
	}
	return names
}

func strategyNames() []string {
	var names []string
	for _, v := range versions {
		if v.subject.Name != "baseline" && !slices.Contains(names, v.strategy) {
			names = append(names, v.strategy)
		}
	}
	return names
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// selected returns the versions the options ask for. The baseline is
// always among them: every ratio is to it.
func selected(o options) ([]version, error) {
	var vs []version
	chosen := 0
	for _, v := range versions {
		switch {
		case v.subject.Name == "baseline":
			vs = append(vs, v)
		case v.replicas > 0 && !o.replicas:
		case (len(o.subjects) == 0 || slices.Contains(o.subjects, v.subject.Name)) &&
			(len(o.strategies) == 0 || slices.Contains(o.strategies, v.strategy)):
			vs = append(vs, v)
			chosen++
		}
	}
	for _, name := range o.subjects {
		if !slices.Contains(subjectNames(), name) {
			return nil, fmt.Errorf("-subject %q: there is no such subject; the subjects are %s", name, strings.Join(subjectNames(), ", "))
		}
	}
	if chosen == 0 {
		return nil, fmt.Errorf("no version matches -subject %q -strategy %q", strings.Join(o.subjects, ","), strings.Join(o.strategies, ","))
	}
	return vs, nil
}

// A runReport is what one invocation measured, as -json and -report write
// it.
type runReport struct {
	Command string        `json:"command"`
	Date    time.Time     `json:"date"`
	Machine string        `json:"machine"`
	Race    bool          `json:"race"`
	Load    string        `json:"load"`
	N       int           `json:"n"`
	C       int           `json:"c"`
	Repeat  int           `json:"repeat"`
	Results []result      `json:"results"`
	Wall    time.Duration `json:"wall_ns"`
	Redis   string        `json:"redis,omitempty"` // the Redis of the replica rows, if any ran
	// Balancer is the load balancer the replica rows ran behind, if any
	// ran: "HAProxy 2.6.12" or "the lab's Go proxy".
	Balancer string `json:"balancer,omitempty"`
	// RedisBenchmark is redis-benchmark's INCR rate on that Redis, in a
	// run without -race where it is installed.
	RedisBenchmark string        `json:"redis_benchmark,omitempty"`
	ReplicaCosts   []replicaCost `json:"replica_costs,omitempty"`
	// External is set when the one result is a server the lab did not
	// build (-url, -cmd): no declared verdict, no race detector.
	External bool `json:"external,omitempty"`
}

// allDeclared reports whether every verdict is one the lab declares.
func (r runReport) allDeclared() bool {
	for _, res := range r.Results {
		if !res.Declared {
			return false
		}
	}
	return true
}

// run is the whole command: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "doctor" {
		return doctor.Run(ctx, args[1:], stdout, stderr)
	}
	start := time.Now()
	o, err := parseOptions(args, stderr)
	o.stderr = stderr
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 2
	}
	if o.warm {
		return warm(ctx, o, stderr)
	}
	newLoader, found := loaders[o.load]
	if !found {
		fmt.Fprintf(stderr, "loadtest: unknown -load %q: use hey, ab or wrk\n", o.load)
		return 2
	}
	load, err := newLoader(o)
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 2
	}
	o.answers = &answers{}
	obs := observers{forTerminalOrLog(stderr)}
	if o.web != "" {
		page, err := startWeb(o.web)
		if err != nil {
			fmt.Fprintln(stderr, "loadtest: -web:", err)
			return 2
		}
		defer page.Close()
		fmt.Fprintf(stderr, "the live page is at %s\n", page.URL())
		obs = append(obs, page)
	}
	defer obs.status("")

	var rep runReport
	if o.url != "" || o.cmd != "" {
		s, found := subjectNamed(o.subjects[0])
		if !found {
			fmt.Fprintf(stderr, "loadtest: no contract is called %q: use %s\n", o.subjects[0], strings.Join(subjectNames(), ", "))
			return 2
		}
		if o.url != "" {
			if err := answersAt(ctx, o.url); err != nil {
				fmt.Fprintln(stderr, "loadtest:", err)
				return 2
			}
		}
		obs.status(fmt.Sprintf("judging %s by the %s contract…", serverName(o), s.Name))
		rep, err = judge(ctx, o, s, load)
	} else {
		var vs []version
		if vs, err = selected(o); err != nil {
			fmt.Fprintln(stderr, "loadtest:", err)
			return 2
		}
		rep, err = measureAll(ctx, o, vs, load, obs)
		if rs := o.redis.started(); rs != nil && !o.race && err == nil {
			obs.status("redis-benchmark -t incr…")
			rep.RedisBenchmark = benchmarkRedis(ctx, rs.Addr)
		}
		rep.Redis = o.redis.close()
		rep.Balancer = o.balancer.String()
		rep.ReplicaCosts = replicaCosts(rep.Results)
	}
	obs.status("")
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 1
	}
	rep.Command = strings.Join(append([]string{"go run ./loadtest"}, quoteArgs(args)...), " ")
	rep.Wall = time.Since(start)

	obs.ended(rep)
	if o.jsonOut {
		writeJSON(stdout, rep)
	} else {
		printTable(stdout, rep, terminalWidth(stdout)) // 0 unless stdout is a terminal: a file keeps whole lines
	}
	if o.report != "" {
		if err := writeReport(o.report, rep); err != nil {
			fmt.Fprintln(stderr, "loadtest: report:", err)
			return 1
		}
		fmt.Fprintf(stderr, "wrote %s\n", o.report)
	}
	code := 0
	switch {
	case rep.External:
		code = judged(rep, o.jsonOut, stderr)
	case !rep.allDeclared():
		fmt.Fprintln(stderr, "loadtest: some verdicts are not the ones the lab declares (marked ✗)")
		code = 1
	}
	if o.web != "" && ctx.Err() == nil {
		fmt.Fprintf(stderr, "the live page keeps the results until Ctrl-C\n")
		<-ctx.Done()
	}
	return code
}

// writeJSON writes rep as -json prints it, and as the live page links it.
func writeJSON(w io.Writer, rep runReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// webAlone gives a -web that has no address after it (the last argument,
// or one followed by another flag) the default address, so that both
// `-web` and `-web ADDR` work.
func webAlone(args []string) []string {
	out := slices.Clone(args)
	for i, a := range out {
		if a == "--" {
			break
		}
		if (a == "-web" || a == "--web") && (i+1 == len(out) || strings.HasPrefix(out[i+1], "-")) {
			out[i] = "-web=" + defaultWebAddr
		}
	}
	return out
}

// quoteArgs quotes the arguments that a shell would split, for the
// command line the report shows.
func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " '\"{}") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return out
}

func subjectNamed(name string) (subject, bool) {
	for _, s := range subjects {
		if s.Name == name {
			return s, true
		}
	}
	return subject{}, false
}

// measureAll builds and runs the versions, one at a time: each gets the
// whole machine. A server's stop is waited for while the next one runs, so
// rows finish in any order; the report keeps the registry's.
func measureAll(ctx context.Context, o options, vs []version, load loader, obs observer) (runReport, error) {
	rep := newReport(o, load)
	root, err := gobuild.ModuleRoot(ctx)
	if err != nil {
		return rep, err
	}
	obs.planned(vs)
	bins, err := buildAll(ctx, root, vs, o.race, obs)
	if err != nil {
		return rep, err
	}
	results := make([]*result, len(vs)) // nil: not run (Ctrl-C)
	var finishing sync.WaitGroup
	for i, v := range vs {
		if ctx.Err() != nil {
			break
		}
		obs.running(i, len(vs), v)
		underLoad, done := context.WithCancel(ctx)
		go tellRate(underLoad, o.answers, obs)
		finish := runVersion(ctx, v, bins[v.pkg], o, load)
		done()
		finishing.Go(func() {
			r := finish()
			results[i] = &r
			obs.finished(i, r)
		})
	}
	obs.status("waiting for the servers to stop…")
	finishing.Wait()
	for _, r := range results {
		if r != nil {
			rep.Results = append(rep.Results, *r)
		}
	}
	addRatios(rep.Results)
	return rep, ctx.Err()
}

func newReport(o options, load loader) runReport {
	return runReport{
		Date:    time.Now().UTC().Truncate(time.Second),
		Machine: fmt.Sprintf("%s/%s, %d cores, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version()),
		Race:    o.race, Load: load.name(), N: o.n, C: o.c, Repeat: o.repeat,
	}
}
