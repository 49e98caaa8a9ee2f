package main

// versions is every server the harness runs, in the order of the table,
// with the verdict the lab declares for each. The naive versions are
// declared to fail the way their seeds say; 4_panic-safety's servers
// are declared to crash or hang on their poison, which is what they show.
var versions = []version{
	// The yardstick, under each shape of load.
	{subject: "baseline", strategy: "no-op", pkg: "loadtest/baseline", wantRace: []Verdict{OK}, drive: driveBaseline(steady)},
	{
		subject: "baseline", strategy: "no-op, bursts", pkg: "loadtest/baseline", shape: bursts, heyOnly: true,
		wantRace: []Verdict{OK}, drive: driveBaseline(bursts),
	},

	// Seed 003: a map of counters. Under -race the detector names the
	// racing lines; without it, the map's own check crashes the process
	// ("concurrent map writes") or increments are lost.
	{
		subject: "counter", strategy: "naive", pkg: "1_naive-race/counter",
		wantRace: []Verdict{Race}, wantPlain: []Verdict{Crashed, LostUpdates}, drive: driveCounter,
	},
	{subject: "counter", strategy: "mutex", pkg: "2_mutex/counter", wantRace: []Verdict{OK}, drive: driveCounter},
	{subject: "counter", strategy: "channel", pkg: "3_channel-commands/counter", wantRace: []Verdict{OK}, drive: driveCounter},
	{
		subject: "counter", strategy: "crash-on-panic", pkg: "4_panic-safety/counter",
		wantRace: []Verdict{Crashed}, drive: driveCrashOnPanicCounter,
	},

	// Seed 000: a matchmaker whose check-then-act on its queue panics in
	// a goroutine no one recovers (crashed, under a burst of clients, most
	// runs), and which hands out a client that has left, writing to its
	// finished ResponseWriter (broken, every time). Over HTTP/1 the race
	// detector does not see the second.
	{
		subject: "matchmaker", strategy: "naive", pkg: "1_naive-race/matchmaker", args: matchmakerArgs, shape: bursts, heyOnly: true,
		wantRace: []Verdict{Crashed, Broken}, drive: driveMatchmaker,
	},
	{subject: "matchmaker", strategy: "mutex", pkg: "2_mutex/matchmaker", args: matchmakerArgs, shape: bursts, heyOnly: true, wantRace: []Verdict{OK}, drive: driveMatchmaker},
	{subject: "matchmaker", strategy: "channel", pkg: "3_channel-commands/matchmaker", args: matchmakerArgs, shape: bursts, heyOnly: true, wantRace: []Verdict{OK}, drive: driveMatchmaker},
	{
		subject: "matchmaker", strategy: "crash-on-panic", pkg: "4_panic-safety/matchmaker", args: matchmakerArgs, shape: bursts, heyOnly: true,
		wantRace: []Verdict{Crashed}, drive: driveCrashOnPanicMatchmaker,
	},

	// Seed 001: a notifier whose subscribers are never removed once they
	// leave (CloseNotify never fires after the upgrade).
	{subject: "notifier", strategy: "naive", pkg: "1_naive-race/notifier", heyOnly: true, wantRace: []Verdict{Leaked}, drive: driveNotifier},
	{subject: "notifier", strategy: "mutex", pkg: "2_mutex/notifier", heyOnly: true, wantRace: []Verdict{OK}, drive: driveNotifier},
	{subject: "notifier", strategy: "channel", pkg: "3_channel-commands/notifier", heyOnly: true, wantRace: []Verdict{OK}, drive: driveNotifier},

	// Seed 002: what a panic does to shared state.
	{subject: "panic", strategy: "deadlock", pkg: "4_panic-safety/deadlock", wantRace: []Verdict{Hung}, drive: driveDeadlock},
	{subject: "panic", strategy: "halfdone", pkg: "4_panic-safety/halfdone", wantRace: []Verdict{Broken}, drive: driveHalfDone},
	{subject: "panic", strategy: "goroutine", pkg: "4_panic-safety/goroutine", wantRace: []Verdict{Crashed}, drive: driveGoroutine},
	{subject: "panic", strategy: "recoverer", pkg: "4_panic-safety/recoverer", wantRace: []Verdict{Hung}, drive: driveRecoverer},
}
