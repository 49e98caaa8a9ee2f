package main

import (
	"fmt"
	"slices"
	"strings"

	"concurrencylab/internal/countercheck"
	"concurrencylab/internal/matchcheck"
	"concurrencylab/internal/notifycheck"
	"concurrencylab/internal/poison"
	"concurrencylab/internal/scenario"
)

// A subject is what every version of one subject shares, as the harness
// runs it: its checks (scenario.Subject: the drive under load, the
// bad-input battery), the shape of its load and what can send it, and the
// flags every version gets. A registry row names its subject and says only
// what differs per version.
type subject struct {
	scenario.Subject
	args  []string       // flags every version gets after -addr
	shape scenario.Shape // of its load; the default is steady
	// heyOnly: its load needs what only hey does here, whatever -load
	// says: a new id for each request (the matchmaker's clients), or a
	// capped rate (the notifier's changes, which the harness's own
	// subscribers must keep up with).
	heyOnly bool
}

var (
	counter = subject{Subject: countercheck.Subject}
	// The matchmaker's pair timeout is cut from a minute, so that a
	// client the naive version loses gets its 408 within the run; its
	// clients come in bursts, each one a new id.
	matchmaker = subject{Subject: matchcheck.Subject, args: []string{"-pair-timeout", "3s"}, shape: scenario.Bursts, heyOnly: true}
	notifier   = subject{Subject: notifycheck.Subject, heyOnly: true}

	// The yardstick, a no-op server, under each shape of load.
	baseline       = subject{Subject: scenario.Subject{Name: "baseline", Drive: driveBaseline}}
	baselineBursts = subject{Subject: baseline.Subject, shape: scenario.Bursts, heyOnly: true}
	// Seed 002's demos: each row sends its own poison.
	panics = subject{Subject: scenario.Subject{Name: "panic"}}
)

// subjects are the contracts the harness can judge a server by, built or
// not (-url, -cmd).
var subjects = []subject{counter, matchmaker, notifier}

// versions is every server the harness runs, in the order of the table,
// with the verdict the lab declares for each: the registry. The harness,
// its -help, its smoke test and the README's verdict table (through the
// report in docs/results.md) all come from it. A new strategy is a folder
// and a row for each of its subjects.
//
// The naive versions are declared to fail the way their seeds say;
// 4_panic-safety's servers are declared to crash or hang on their poison,
// which is what they show.
var versions = []version{
	{subject: baseline, strategy: "no-op", pkg: "loadtest/baseline", wantRace: ok},
	{subject: baselineBursts, strategy: "no-op, bursts", pkg: "loadtest/baseline", wantRace: ok},

	// Seed 003: a map of counters. Under -race the detector names the
	// racing lines; without it, the map's own check crashes the process
	// ("concurrent map writes") or increments are lost.
	{subject: counter, strategy: "naive", pkg: "1_naive-race/counter", wantRace: verdicts(scenario.Race), wantPlain: verdicts(scenario.Crashed, scenario.LostUpdates)},
	{subject: counter, strategy: "mutex", pkg: "2_mutex/counter", wantRace: ok},
	{subject: counter, strategy: "channel", pkg: "3_channel-commands/counter", wantRace: ok},
	{subject: counter, strategy: "crash-on-panic", pkg: "4_panic-safety/counter", wantRace: verdicts(scenario.Crashed), poison: poison.CrashOnPanicCounter},

	// Seed 000: a matchmaker whose check-then-act on its queue panics in
	// a goroutine no one recovers (crashed, under a burst of clients, most
	// runs), and which hands out a client that has left, writing to its
	// finished ResponseWriter (broken, every time). Over HTTP/1 the race
	// detector does not see the second.
	{subject: matchmaker, strategy: "naive", pkg: "1_naive-race/matchmaker", wantRace: verdicts(scenario.Crashed, scenario.Broken)},
	{subject: matchmaker, strategy: "mutex", pkg: "2_mutex/matchmaker", wantRace: ok},
	{subject: matchmaker, strategy: "channel", pkg: "3_channel-commands/matchmaker", wantRace: ok},
	{subject: matchmaker, strategy: "crash-on-panic", pkg: "4_panic-safety/matchmaker", wantRace: verdicts(scenario.Crashed), poison: poison.CrashOnPanicMatchmaker},

	// Seed 001: a notifier whose subscribers are never removed once they
	// leave (CloseNotify never fires after the upgrade).
	{subject: notifier, strategy: "naive", pkg: "1_naive-race/notifier", wantRace: verdicts(scenario.Leaked)},
	{subject: notifier, strategy: "mutex", pkg: "2_mutex/notifier", wantRace: ok},
	{subject: notifier, strategy: "channel", pkg: "3_channel-commands/notifier", wantRace: ok},

	// Beyond one process: three replicas behind a round-robin proxy. The
	// fixes of 2_mutex hold each replica's state apart, which no race
	// detector sees; 5_redis keeps it in Redis, and its first attempt at
	// the counter (GET, add one, SET) loses updates between processes.
	{subject: counter, strategy: "mutex", replicas: 3, pkg: "2_mutex/counter", wantRace: verdicts(scenario.Split)},
	{subject: counter, strategy: "redis-getset", replicas: 3, redis: true, pkg: "5_redis/counter", args: []string{"-inc", "getset"}, wantRace: verdicts(scenario.LostUpdates)},
	{subject: counter, strategy: "redis", replicas: 3, redis: true, pkg: "5_redis/counter", wantRace: ok},
	// Its replicas each keep what they read for a moment: every increment
	// is counted, but reads go back in time, which only the history of
	// answers shows.
	{subject: counter, strategy: "redis-cache", replicas: 3, redis: true, pkg: "5_redis/counter", args: []string{"-read", "cache"}, wantRace: verdicts(scenario.StaleReads)},
	{subject: matchmaker, strategy: "mutex", replicas: 3, pkg: "2_mutex/matchmaker", wantRace: verdicts(scenario.Broken)},
	{subject: matchmaker, strategy: "redis", replicas: 3, redis: true, pkg: "5_redis/matchmaker", wantRace: ok},
	{subject: notifier, strategy: "mutex", replicas: 3, pkg: "2_mutex/notifier", wantRace: verdicts(scenario.Missed)},
	{subject: notifier, strategy: "redis", replicas: 3, redis: true, pkg: "5_redis/notifier", wantRace: ok},

	// Seed 002: what a panic does to shared state.
	{subject: panics, strategy: "deadlock", pkg: "4_panic-safety/deadlock", wantRace: verdicts(scenario.Hung), poison: poison.Deadlock},
	{subject: panics, strategy: "halfdone", pkg: "4_panic-safety/halfdone", wantRace: verdicts(scenario.Broken), poison: poison.HalfDoneCache},
	{subject: panics, strategy: "goroutine", pkg: "4_panic-safety/goroutine", wantRace: verdicts(scenario.Crashed), poison: poison.Goroutine},
	{subject: panics, strategy: "recoverer", pkg: "4_panic-safety/recoverer", wantRace: verdicts(scenario.Hung), poison: poison.Recoverer},
}

// ok is the verdict of a version that works.
var ok = verdicts(scenario.OK)

func verdicts(vs ...scenario.Verdict) []scenario.Verdict { return vs }

// A version is one server of the lab, a row of the registry: what differs
// from the other versions of its subject.
type version struct {
	subject  subject
	strategy string   // naive, mutex, channel, crash-on-panic; or the panic demo's name
	pkg      string   // its folder, e.g. "1_naive-race/counter"
	args     []string // its own flags, after its subject's
	// replicas, if set, runs it as that many processes behind a
	// round-robin proxy (internal/cluster); redis gives each one
	// -redis, the address of the run's Redis.
	replicas int
	redis    bool
	// wantRace and wantPlain list the verdicts declared for a -race build
	// and for a plain one: the naive versions fail, and which way depends
	// on the race detector (without it, a racy map crashes or loses
	// updates). No wantPlain: the same as wantRace.
	wantRace, wantPlain []scenario.Verdict
	// poison, if set, is the drive that sends a 4_panic-safety server its
	// poison, in place of its subject's.
	poison scenario.Drive
}

// drive is the version's check under load: its poison, or its subject's.
func (v version) drive() scenario.Drive {
	if v.poison != nil {
		return v.poison
	}
	return v.subject.Drive
}

// flags are what the version is started with after -addr: its subject's,
// then its own.
func (v version) flags() []string {
	return append(slices.Clip(v.subject.args), v.args...)
}

func (v version) want(race bool) []scenario.Verdict {
	if race || v.wantPlain == nil {
		return v.wantRace
	}
	return v.wantPlain
}

// loadShape is the shape of the subject's load.
func (s subject) loadShape() scenario.Shape {
	if s.shape == "" {
		return scenario.Steady
	}
	return s.shape
}

// slug names the version in a file name: 5_redis-counter-read-cache-x3.
func (v version) slug() string {
	parts := append([]string{strings.ReplaceAll(v.pkg, "/", "-")}, v.args...)
	if v.replicas > 0 {
		parts = append(parts, fmt.Sprintf("x%d", v.replicas))
	}
	for i, p := range parts {
		parts[i] = strings.TrimLeft(p, "-")
	}
	return strings.Join(parts, "-")
}

// label is the strategy as the table shows it: with ×N for replicas.
func (v version) label() string {
	if v.replicas > 0 {
		return fmt.Sprintf("%s ×%d", v.strategy, v.replicas)
	}
	return v.strategy
}
