package main

import (
	"fmt"

	"concurrencylab/internal/countercheck"
	"concurrencylab/internal/matchcheck"
	"concurrencylab/internal/notifycheck"
	"concurrencylab/internal/poison"
	"concurrencylab/internal/scenario"
)

// subjects are the contracts the harness can judge a server by, built or
// not (-url, -cmd).
var subjects = []scenario.Subject{countercheck.Subject, matchcheck.Subject, notifycheck.Subject}

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
	// The yardstick, under each shape of load.
	{subject: "baseline", strategy: "no-op", pkg: "loadtest/baseline", wantRace: ok, drive: driveBaseline},
	{subject: "baseline", strategy: "no-op, bursts", pkg: "loadtest/baseline", shape: scenario.Bursts, heyOnly: true, wantRace: ok, drive: driveBaseline},

	// Seed 003: a map of counters. Under -race the detector names the
	// racing lines; without it, the map's own check crashes the process
	// ("concurrent map writes") or increments are lost.
	{
		subject: "counter", strategy: "naive", pkg: "1_naive-race/counter", drive: countercheck.Subject.Drive,
		wantRace: verdicts(scenario.Race), wantPlain: verdicts(scenario.Crashed, scenario.LostUpdates),
	},
	{subject: "counter", strategy: "mutex", pkg: "2_mutex/counter", wantRace: ok, drive: countercheck.Subject.Drive},
	{subject: "counter", strategy: "channel", pkg: "3_channel-commands/counter", wantRace: ok, drive: countercheck.Subject.Drive},
	{subject: "counter", strategy: "crash-on-panic", pkg: "4_panic-safety/counter", wantRace: verdicts(scenario.Crashed), drive: poison.CrashOnPanicCounter},

	// Seed 000: a matchmaker whose check-then-act on its queue panics in
	// a goroutine no one recovers (crashed, under a burst of clients, most
	// runs), and which hands out a client that has left, writing to its
	// finished ResponseWriter (broken, every time). Over HTTP/1 the race
	// detector does not see the second.
	{
		subject: "matchmaker", strategy: "naive", pkg: "1_naive-race/matchmaker", args: matchmakerArgs, shape: scenario.Bursts, heyOnly: true,
		wantRace: verdicts(scenario.Crashed, scenario.Broken), drive: matchcheck.Subject.Drive,
	},
	{subject: "matchmaker", strategy: "mutex", pkg: "2_mutex/matchmaker", args: matchmakerArgs, shape: scenario.Bursts, heyOnly: true, wantRace: ok, drive: matchcheck.Subject.Drive},
	{subject: "matchmaker", strategy: "channel", pkg: "3_channel-commands/matchmaker", args: matchmakerArgs, shape: scenario.Bursts, heyOnly: true, wantRace: ok, drive: matchcheck.Subject.Drive},
	{
		subject: "matchmaker", strategy: "crash-on-panic", pkg: "4_panic-safety/matchmaker", args: matchmakerArgs, shape: scenario.Bursts, heyOnly: true,
		wantRace: verdicts(scenario.Crashed), drive: poison.CrashOnPanicMatchmaker,
	},

	// Seed 001: a notifier whose subscribers are never removed once they
	// leave (CloseNotify never fires after the upgrade).
	{subject: "notifier", strategy: "naive", pkg: "1_naive-race/notifier", heyOnly: true, wantRace: verdicts(scenario.Leaked), drive: notifycheck.Subject.Drive},
	{subject: "notifier", strategy: "mutex", pkg: "2_mutex/notifier", heyOnly: true, wantRace: ok, drive: notifycheck.Subject.Drive},
	{subject: "notifier", strategy: "channel", pkg: "3_channel-commands/notifier", heyOnly: true, wantRace: ok, drive: notifycheck.Subject.Drive},

	// Beyond one process: three replicas behind a round-robin proxy. The
	// fixes of 2_mutex hold each replica's state apart, which no race
	// detector sees; 5_redis keeps it in Redis, and its first attempt at
	// the counter (GET, add one, SET) loses updates between processes.
	{subject: "counter", strategy: "mutex", replicas: 3, pkg: "2_mutex/counter", wantRace: verdicts(scenario.Split), drive: countercheck.Subject.Drive},
	{subject: "counter", strategy: "redis-getset", replicas: 3, redis: true, pkg: "5_redis/counter", args: []string{"-inc", "getset"}, wantRace: verdicts(scenario.LostUpdates), drive: countercheck.Subject.Drive},
	{subject: "counter", strategy: "redis", replicas: 3, redis: true, pkg: "5_redis/counter", wantRace: ok, drive: countercheck.Subject.Drive},
	{
		subject: "matchmaker", strategy: "mutex", replicas: 3, pkg: "2_mutex/matchmaker", args: matchmakerArgs, shape: scenario.Bursts, heyOnly: true,
		wantRace: verdicts(scenario.Broken), drive: matchcheck.Subject.Drive,
	},
	{
		subject: "matchmaker", strategy: "redis", replicas: 3, redis: true, pkg: "5_redis/matchmaker", args: matchmakerArgs, shape: scenario.Bursts, heyOnly: true,
		wantRace: ok, drive: matchcheck.Subject.Drive,
	},
	{subject: "notifier", strategy: "mutex", replicas: 3, pkg: "2_mutex/notifier", heyOnly: true, wantRace: verdicts(scenario.Missed), drive: notifycheck.Subject.Drive},
	{subject: "notifier", strategy: "redis", replicas: 3, redis: true, pkg: "5_redis/notifier", heyOnly: true, wantRace: ok, drive: notifycheck.Subject.Drive},

	// Seed 002: what a panic does to shared state.
	{subject: "panic", strategy: "deadlock", pkg: "4_panic-safety/deadlock", wantRace: verdicts(scenario.Hung), drive: poison.Deadlock},
	{subject: "panic", strategy: "halfdone", pkg: "4_panic-safety/halfdone", wantRace: verdicts(scenario.Broken), drive: poison.HalfDoneCache},
	{subject: "panic", strategy: "goroutine", pkg: "4_panic-safety/goroutine", wantRace: verdicts(scenario.Crashed), drive: poison.Goroutine},
	{subject: "panic", strategy: "recoverer", pkg: "4_panic-safety/recoverer", wantRace: verdicts(scenario.Hung), drive: poison.Recoverer},
}

// matchmakerArgs shorten the pair timeout from a minute, so that a client
// the naive version loses gets its 408 within the run.
var matchmakerArgs = []string{"-pair-timeout", "3s"}

// ok is the verdict of a version that works.
var ok = verdicts(scenario.OK)

func verdicts(vs ...scenario.Verdict) []scenario.Verdict { return vs }

// A version is one server of the lab, a row of the registry.
type version struct {
	subject  string   // counter, matchmaker, notifier, panic, baseline
	strategy string   // naive, mutex, channel, crash-on-panic; or the panic demo's name
	pkg      string   // its folder, e.g. "1_naive-race/counter"
	args     []string // flags after -addr
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
	drive               scenario.Drive
	shape               scenario.Shape // of its load; the default is steady
	// heyOnly: its load needs what only hey does here, whatever -load
	// says: a new id for each request (the matchmaker's clients), or a
	// capped rate (the notifier's changes, which the harness's own
	// subscribers must keep up with).
	heyOnly bool
}

func (v version) want(race bool) []scenario.Verdict {
	if race || v.wantPlain == nil {
		return v.wantRace
	}
	return v.wantPlain
}

func (v version) loadShape() scenario.Shape {
	if v.shape == "" {
		return scenario.Steady
	}
	return v.shape
}

// label is the strategy as the table shows it: with ×N for replicas.
func (v version) label() string {
	if v.replicas > 0 {
		return fmt.Sprintf("%s ×%d", v.strategy, v.replicas)
	}
	return v.strategy
}
