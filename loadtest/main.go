// Command loadtest is the lab's harness: it runs every version of every
// subject under real load and prints one verdict table.
//
//	go run ./loadtest doctor                # first: can this machine run the lab?
//	go run ./loadtest                       # every version, built with -race
//	go run ./loadtest -subject counter      # one subject
//	go run ./loadtest -race=false -load ab  # a throughput run
//	go run ./loadtest -report docs/results.md
//
// For each version it builds the server (with -race by default), starts it
// as a child process on a free 127.0.0.1 port, drives load at it (hey's
// requester package, or ab or wrk; real websocket clients for the
// notifier), checks the subject's invariants through the server's own API,
// reads what the server wrote for data races, fatal errors and panics,
// notes hangs and how the process exited, and stops it. The naive versions
// are declared to fail, each the way its seed says; the table shows whether
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
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
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
	stall                bool          // check that the notifier drops a subscriber that stops reading
	stderr               io.Writer     // for -v
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	subject := fs.String("subject", "", "run only these subjects, comma-separated: counter, matchmaker, notifier, panic")
	strategy := fs.String("strategy", "", "run only these strategies, comma-separated: naive, mutex, channel, crash-on-panic, deadlock, halfdone, goroutine, recoverer")
	fs.IntVar(&o.n, "n", 2000, "requests per burst of load")
	fs.IntVar(&o.c, "c", 200, "concurrent requests, as in the seeds' `ab -n 20000 -c 200`")
	fs.IntVar(&o.repeat, "repeat", 3, "bursts of load per version, for the spread of the throughput")
	fs.BoolVar(&o.race, "race", true, "build the servers with the race detector (the verdict run); -race=false for a throughput run")
	fs.BoolVar(&o.jsonOut, "json", false, "print the results as JSON instead of a table")
	fs.BoolVar(&o.verbose, "v", false, "print what each server wrote (its log, race reports, panics) to stderr")
	fs.StringVar(&o.report, "report", "", "also write the results as Markdown to this file, with a chart of throughput beside it (.png)")
	fs.StringVar(&o.load, "load", "hey", "load generator: hey (built in), ab (apache2-utils) or wrk")
	fs.BoolVar(&o.stall, "stall", true, "check that a notifier drops a subscriber that stops reading (it takes some 37,000 events: seconds per version)")
	fs.DurationVar(&o.wrkDuration, "wrk-duration", 3*time.Second, "how long each burst of -load wrk runs")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./loadtest [flags]\n       go run ./loadtest doctor   (checks that this machine can run the lab: run it first)\n\nRuns every version of the lab under load and prints a verdict table.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	o.subjects, o.strategies = splitList(*subject), splitList(*strategy)
	switch {
	case o.n < 2 || o.c < 2 || o.repeat < 1:
		return o, errors.New("-n and -c must be at least 2, -repeat at least 1")
	case o.c > o.n:
		return o, errors.New("-c must not exceed -n")
	}
	return o, nil
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
		case v.subject == "baseline":
			vs = append(vs, v)
		case (len(o.subjects) == 0 || slices.Contains(o.subjects, v.subject)) &&
			(len(o.strategies) == 0 || slices.Contains(o.strategies, v.strategy)):
			vs = append(vs, v)
			chosen++
		}
	}
	if chosen == 0 {
		return nil, fmt.Errorf("no version matches -subject %q -strategy %q", strings.Join(o.subjects, ","), strings.Join(o.strategies, ","))
	}
	return vs, nil
}

// A run is what one invocation measured, as -json and -report write it.
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
		return runDoctor(ctx, args[1:], stdout, stderr)
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
	vs, err := selected(o)
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 2
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

	var prog *progress
	if f, isFile := stderr.(*os.File); isFile {
		prog = newProgress(f)
	}
	defer prog.clear()
	rep, err := measureAll(ctx, o, vs, load, prog)
	if err != nil {
		prog.clear()
		fmt.Fprintln(stderr, "loadtest:", err)
		return 1
	}
	rep.Command = strings.Join(append([]string{"go run ./loadtest"}, args...), " ")
	rep.Wall = time.Since(start)
	prog.clear()

	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	} else {
		printTable(stdout, rep)
	}
	if o.report != "" {
		if err := writeReport(o.report, rep); err != nil {
			fmt.Fprintln(stderr, "loadtest: report:", err)
			return 1
		}
		fmt.Fprintf(stderr, "wrote %s\n", o.report)
	}
	if !rep.allDeclared() {
		fmt.Fprintln(stderr, "loadtest: some verdicts are not the ones the lab declares (marked ✗)")
		return 1
	}
	return 0
}

// measureAll builds and runs the versions, one at a time: each gets the
// whole machine.
func measureAll(ctx context.Context, o options, vs []version, load loader, prog *progress) (runReport, error) {
	rep := runReport{
		Date:    time.Now().UTC().Truncate(time.Second),
		Machine: fmt.Sprintf("%s/%s, %d cores, %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version()),
		Race:    o.race, Load: load.name(), N: o.n, C: o.c, Repeat: o.repeat,
	}
	root, err := moduleRoot(ctx)
	if err != nil {
		return rep, err
	}
	dir, err := os.MkdirTemp("", "loadtest-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(dir)
	prog.show("building %d servers%s…", len(vs), map[bool]string{true: " with -race", false: ""}[o.race])
	bins, err := buildAll(ctx, root, dir, vs, o.race, prog)
	if err != nil {
		return rep, err
	}
	finish := make([]func() result, len(vs))
	for i, v := range vs {
		if ctx.Err() != nil {
			break
		}
		prog.show("[%d/%d] %s %s: under load…", i+1, len(vs), v.subject, v.strategy)
		finish[i] = runVersion(ctx, v, bins[v.pkg], o, load)
	}
	prog.show("waiting for the servers to stop…")
	for _, f := range finish {
		if f != nil {
			rep.Results = append(rep.Results, f())
		}
	}
	addRatios(rep.Results)
	return rep, ctx.Err()
}
