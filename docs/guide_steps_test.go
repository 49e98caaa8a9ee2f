//go:build lab

package docs

import (
	"strings"
	"time"
)

// ranByCI are the guide's commands that .ci/run runs as phases of its own,
// and the guide does not run again: the lab's own tests take minutes.
var ranByCI = []string{"go test -race -tags lab ./..."}

// The steps of docs/workshop.md, lesson by lesson, in the guide's order.
// A command is written exactly as in the guide; want lists the lines, or
// parts of lines, that the guide shows and tells the learner to look for.
var lessons = []lesson{
	{"before you start", []step{
		run("go run ./loadtest/doctor", "ready: every needed check passed"),
		run("CGO_ENABLED=0 go run ./loadtest/doctor", "✗ cgo enabled:   CGO_ENABLED=0 — the race detector needs cgo: export CGO_ENABLED=1", "not ready: 2 needed checks failed (marked ✗)").exits(1),
		run("go run ./loadtest -warm", "loadtest: -warm: done in"),
		run("go test -race ./...", "ok  \tconcurrencylab/1_naive-race/counter"),
	}},
	{"counter", []step{
		start("go run ./1_naive-race/counter"),
		run(`go tool hey -n 100000 -c 200 "http://127.0.0.1:8000/inc?name=i"`, "connect: connection refused"),
		exited("go run ./1_naive-race/counter", "fatal error: concurrent map", "main.(*Store).Inc", "exit status 2").exits(1),

		start("go run ./1_naive-race/counter"),
		run(`ab -n 100000 -c 200 "127.0.0.1:8000/inc?name=i"`, "requests completed").exits(anyFailure),
		exited("go run ./1_naive-race/counter", "fatal error: concurrent map").exits(1),

		start("go run -race ./1_naive-race/counter"),
		run(`go tool hey -n 200 -c 10 "http://127.0.0.1:8000/inc?name=i"`, "[200]\t200 responses"),
		stopped("go run -race ./1_naive-race/counter", "WARNING: DATA RACE", "main.(*Store).Inc()", "1_naive-race/counter/store.go:47", "exit status 66").exits(1),

		run("go test -race -v -run TestCounterIsBroken ./1_naive-race/counter", "failed as expected, with data race: WARNING: DATA RACE", "--- PASS: TestCounterIsBroken"),

		start("go run ./2_mutex/counter"),
		run(`go tool hey -n 20000 -c 200 "http://127.0.0.1:8000/inc?name=i"`, "[200]\t20000 responses"),
		run(`curl "127.0.0.1:8000/get?name=i"`, "i: 20000"),
		stopped("go run ./2_mutex/counter", "INFO shutting down", "INFO stopped"),

		start("go run ./3_channel-commands/counter"),
		run(`go tool hey -n 20000 -c 200 "http://127.0.0.1:8000/inc?name=i"`, "[200]\t20000 responses"),
		run(`curl "127.0.0.1:8000/get?name=i"`, "i: 20000"),
		stopped("go run ./3_channel-commands/counter"),

		run("diff -u 1_naive-race/counter/store.go 2_mutex/counter/store.go", "+\tmu       sync.Mutex       // guards counters", "+\ts.mu.Lock()\n+\tdefer s.mu.Unlock()").exits(1),
		run("diff -u 2_mutex/counter/store.go 3_channel-commands/counter/store.go").exits(1),

		run("go run ./loadtest -subject counter -replicas=false",
			"counter   naive           race     ✓",
			"counter   mutex           ok       ✓",
			"counter   channel         ok       ✓",
			"counter   crash-on-panic  crashed  ✓"),

		run("LAB_EXERCISE=1 go test -race ./1_naive-race/counter", "FAIL\tconcurrencylab/1_naive-race/counter").exits(1),

		run("go run ./loadtest -subject counter -cmd 'python3 loadtest/testdata/counter.py {port} --unlocked'",
			"counter  external  lost updates  ✗ want ok", "increments answered ok, 200 at a time (",
			"contract: 23 of 23 bad-input cases answered as the contract says").exits(1),
		run("go run ./loadtest -subject counter -cmd 'python3 loadtest/testdata/counter.py {port}'",
			"counter  external  ok       ✓", "i: 6000 after 6000 increments, 200 at a time",
			"contract: 23 of 23 bad-input cases answered as the contract says"),
		start("go run ./2_mutex/counter"),
		run("go run ./loadtest -subject counter -url http://127.0.0.1:8000", "counter  external  ok       ✓",
			"contract: 23 of 23 bad-input cases answered as the contract says"),
		stopped("go run ./2_mutex/counter"),
	}},
	{"matchmaker", []step{
		start("go run ./1_naive-race/matchmaker"),
		run("go tool hey -n 100000 -c 200 http://127.0.0.1:8000/", "connect: connection refused"),
		exited("go run ./1_naive-race/matchmaker", "panic: runtime error: index out of range [0] with length 0", "main.(*ClientQueue).Dequeue", "exit status 2").exits(1),

		start("go run ./1_naive-race/matchmaker -tls -pair-timeout 1s"),
		run(`curl -k "https://127.0.0.1:8000/?id=alice"`, "timeout waiting for peer"),
		run(`curl -k "https://127.0.0.1:8000/?id=bob"`).exits(anyFailure),
		exited("go run ./1_naive-race/matchmaker -tls -pair-timeout 1s", "panic: WriteHeader called after Handler finished", "main.(*matchmaker).sendPairingResponse").exits(1),

		start("go run ./2_mutex/matchmaker"),
		run("go tool hey -n 20000 -c 200 -t 1 http://127.0.0.1:8000/", "[200]"),
		run("curl 127.0.0.1:8000/stats", `"waiting":0`),
		stopped("go run ./2_mutex/matchmaker", "INFO stopped"),

		start("go run ./3_channel-commands/matchmaker -tls -pair-timeout 1s"),
		run(`curl -k "https://127.0.0.1:8000/?id=alice"`, "timeout waiting for peer"),
		run(`curl -k "https://127.0.0.1:8000/?id=bob"`, "timeout waiting for peer"),
		stopped("go run ./3_channel-commands/matchmaker -tls -pair-timeout 1s", "INFO stopped"),

		run("diff -u 2_mutex/matchmaker/matchmaker.go 3_channel-commands/matchmaker/matchmaker.go").exits(1),
		run("go run ./loadtest -subject matchmaker -replicas=false",
			"matchmaker  mutex           ok       ✓",
			"matchmaker  channel         ok       ✓"),
		run("LAB_EXERCISE=1 go test -race ./1_naive-race/matchmaker", "FAIL\tconcurrencylab/1_naive-race/matchmaker").exits(1),
	}},
	{"notifier", []step{
		start("go run ./1_naive-race/notifier"),
		start("go run ./internal/subscribe").inTerminal("first subscriber"),
		start("go run ./internal/subscribe").inTerminal("second subscriber"),
		run(`curl -d '{"name":"a"}' 127.0.0.1:8000/resources`, `{"event":"created","id":1,"seq":1}`),
		awaits("go run ./internal/subscribe", `{"event":"created","id":1,"seq":1}`).inTerminal("first subscriber"),
		stopped("go run ./internal/subscribe", "left").inTerminal("second subscriber"),
		run("curl 127.0.0.1:8000/stats", `{"subscribers":2,"published":1,"delivered":2,"dropped":0}`),
		stopped("go run ./1_naive-race/notifier"),
		exited("go run ./internal/subscribe", "the server ended the subscription").inTerminal("first subscriber"),

		start("go run ./1_naive-race/notifier"),
		start("go run ./internal/subscribe -stall"),
		start("go run ./internal/subscribe"),
		run(`go tool hey -z 10s -c 4 -q 1000 -t 2 -m POST -d '{}' http://127.0.0.1:8000/resources`, "context deadline exceeded"),
		run("curl -m 2 127.0.0.1:8000/stats", "Operation timed out").exits(28),
		stopped("go run ./1_naive-race/notifier", `ERROR server failed err="shutdown: context deadline exceeded"`),
		exited("go run ./internal/subscribe", "the server ended the subscription"),
		stopped("go run ./internal/subscribe -stall", "left"),

		start("go run ./2_mutex/notifier"),
		start("go run ./internal/subscribe").inTerminal("first subscriber"),
		start("go run ./internal/subscribe").inTerminal("second subscriber"),
		run(`curl -d '{"name":"a"}' 127.0.0.1:8000/resources`, `{"event":"created","id":1,"seq":1}`),
		awaits("go run ./internal/subscribe", `{"event":"created","id":1,"seq":1}`).inTerminal("second subscriber"),
		stopped("go run ./internal/subscribe", "left").inTerminal("second subscriber"),
		run("curl 127.0.0.1:8000/stats", `{"subscribers":1,"published":1,"delivered":2,"dropped":0}`),
		start("go run ./internal/subscribe -stall"),
		run(`go tool hey -z 10s -c 4 -q 1000 -t 2 -m POST -d '{}' http://127.0.0.1:8000/resources`, "[201]"),
		run("curl 127.0.0.1:8000/stats", `"subscribers":1`, `"dropped":1`),
		stopped("go run ./internal/subscribe -stall", "left"),
		stopped("go run ./internal/subscribe", "left").inTerminal("first subscriber"),
		stopped("go run ./2_mutex/notifier", "INFO stopped"),

		run("go run ./loadtest -subject notifier -replicas=false",
			"notifier  naive          leaked   ✓",
			"notifier  mutex          ok       ✓",
			"notifier  channel        ok       ✓"),
		run("LAB_EXERCISE=1 go test -race ./1_naive-race/notifier", "FAIL\tconcurrencylab/1_naive-race/notifier").exits(1),
	}},
	{"panics", []step{
		start("go run ./4_panic-safety/deadlock"),
		run("curl '127.0.0.1:8000/comments?last=5'", "Empty reply from server").exits(52),
		awaits("go run ./4_panic-safety/deadlock", "http: panic serving"),
		run("curl -m 2 '127.0.0.1:8000/comments?last=1'", "Operation timed out").exits(28),
		stopped("go run ./4_panic-safety/deadlock", "exit status 1"),

		start("go run ./4_panic-safety/halfdone"),
		run("curl -X PUT --data-binary w 127.0.0.1:8000/cache/watch"),
		run("curl -X PUT --data-binary i 127.0.0.1:8000/cache/it"),
		run("curl -X PUT --data-binary abc 127.0.0.1:8000/cache/burn", "Empty reply from server").exits(52),
		run("curl 127.0.0.1:8000/stats", `{"max_size":5,"curr_size":5,"actual_size":2}`),
		run("curl -X PUT --data-binary x 127.0.0.1:8000/cache/more", "cache full: 5 of 5 bytes used"),
		stopped("go run ./4_panic-safety/halfdone", "INFO stopped"),

		start("go run ./4_panic-safety/goroutine"),
		run("curl -X POST '127.0.0.1:8000/orders?id=oops'", "accepted"),
		exited("go run ./4_panic-safety/goroutine", "panic: runtime error: index out of range [1] with length 1", "main.orderNumber", "exit status 2").exits(1),

		start("go run ./4_panic-safety/recoverer"),
		run("curl -i '127.0.0.1:8000/comments?last=5'", "500 Internal Server Error"),
		run("curl -m 2 '127.0.0.1:8000/comments?last=1'", "Operation timed out").exits(28),
		stopped("go run ./4_panic-safety/recoverer", "exit status 1"),

		start("go run ./4_panic-safety/counter"),
		run("curl '127.0.0.1:8000/set?name=hits@Home&val=5'", "ok"),
		run("curl '127.0.0.1:8000/get?name=hits@home'", "hits@home: 5"),
		run("curl '127.0.0.1:8000/set?name=hits@&val=1'", "Empty reply from server").exits(52),
		exited("go run ./4_panic-safety/counter", "ERROR panic in a handler: exiting so a clean process can take over", "exit status 70").exits(1),

		run("go test ./4_panic-safety/...", "ok  \tconcurrencylab/4_panic-safety/crashonpanic"),
		run("go run ./loadtest -subject panic",
			"panic     deadlock       hung     ✓",
			"panic     halfdone       broken   ✓",
			"panic     goroutine      crashed  ✓",
			"panic     recoverer      hung     ✓"),
	}},
	{"replicas", []step{
		start("go run ./loadtest/cluster 2_mutex/counter"),
		run(`go tool hey -n 20000 -c 200 "http://127.0.0.1:8000/inc?name=i"`, "[200]\t20000 responses"),
		run(`curl -i "127.0.0.1:8000/get?name=i"`, "Lab-Replica: 3", "i: 6666"),
		run(`curl -i "127.0.0.1:8000/get?name=i"`, "Lab-Replica: 1", "i: 6667"),
		run(`curl -i "127.0.0.1:8000/get?name=i"`, "Lab-Replica: 2", "i: 6667"),
		stopped("go run ./loadtest/cluster 2_mutex/counter", "stopping..."),

		start("go run ./loadtest/cluster 5_redis/counter"),
		run(`go tool hey -n 20000 -c 200 "http://127.0.0.1:8000/inc?name=i"`, "[200]\t20000 responses"),
		run(`curl -i "127.0.0.1:8000/get?name=i"`, "Lab-Replica: 3", "i: 20000"),
		run(`curl -i "127.0.0.1:8000/get?name=i"`, "Lab-Replica: 1", "i: 20000"),
		run(`curl -i "127.0.0.1:8000/get?name=i"`, "Lab-Replica: 2", "i: 20000"),
		stopped("go run ./loadtest/cluster 5_redis/counter"),

		start("go run ./loadtest/cluster 5_redis/counter -inc getset"),
		run(`go tool hey -n 20000 -c 200 "http://127.0.0.1:8000/inc?name=i"`, "[200]\t20000 responses"),
		run(`curl -i "127.0.0.1:8000/get?name=i"`, "Lab-Replica: 3"),
		stopped("go run ./loadtest/cluster 5_redis/counter -inc getset"),
		run("go test -race -v -run TestGetSetLosesUpdates ./5_redis/counter",
			"failed as expected, with a short count", "--- PASS: TestGetSetLosesUpdates", "ok  \tconcurrencylab/5_redis/counter"),

		start("go run ./loadtest/cluster 5_redis/counter -inc watch"),
		run(`go tool hey -n 2000 -c 200 "http://127.0.0.1:8000/inc?name=i"`, "[200]\t2000 responses"),
		run(`curl -i "127.0.0.1:8000/get?name=i"`, "Lab-Replica: 3", "i: 2000"),
		run("curl 127.0.0.1:8000/debug/vars", `"inc_increments": 667`, `"inc_retries": `),
		stopped("go run ./loadtest/cluster 5_redis/counter -inc watch"),

		run("go run ./loadtest -subject counter -strategy redis-cache",
			"counter   redis-cache ×3  stale reads  ✓",
			"every increment was counted",
			"history of counter redis-cache ×3 drawn: "),

		start("go run ./loadtest/cluster 2_mutex/matchmaker -pair-timeout 2s"),
		run(`curl "127.0.0.1:8000/?id=alice" & curl "127.0.0.1:8000/?id=bob"; wait`, "timeout waiting for peer"),
		run("curl -i 127.0.0.1:8000/stats", "Lab-Replica: 3", `{"requests":0,"waiting":0,"paired":0,"timed_out":0,"canceled":0}`),
		run("curl -i 127.0.0.1:8000/stats", "Lab-Replica: 1", `{"requests":1,"waiting":0,"paired":0,"timed_out":1,"canceled":0}`),
		run("curl -i 127.0.0.1:8000/stats", "Lab-Replica: 2", `{"requests":1,"waiting":0,"paired":0,"timed_out":1,"canceled":0}`),
		stopped("go run ./loadtest/cluster 2_mutex/matchmaker -pair-timeout 2s"),

		start("go run ./loadtest/cluster 5_redis/matchmaker -pair-timeout 2s"),
		run(`curl "127.0.0.1:8000/?id=alice" & curl "127.0.0.1:8000/?id=bob"; wait`, "alice", "bob"),
		run("curl -i 127.0.0.1:8000/stats", "Lab-Replica: 3", `{"requests":2,"waiting":0,"paired":1,"timed_out":0,"canceled":0}`),
		run("curl -i 127.0.0.1:8000/stats", "Lab-Replica: 1", `{"requests":2,"waiting":0,"paired":1,"timed_out":0,"canceled":0}`),
		run("curl -i 127.0.0.1:8000/stats", "Lab-Replica: 2", `{"requests":2,"waiting":0,"paired":1,"timed_out":0,"canceled":0}`),
		stopped("go run ./loadtest/cluster 5_redis/matchmaker -pair-timeout 2s"),

		start("go run ./loadtest/cluster 2_mutex/notifier"),
		start("go run ./internal/subscribe"),
		run(`curl -i -d '{"name":"a"}' 127.0.0.1:8000/resources`, "201 Created", "Lab-Replica: 2", `{"event":"created","id":1,"seq":1}`),
		run("curl -i 127.0.0.1:8000/stats", "Lab-Replica: 3", `{"subscribers":0,"published":0,"delivered":0,"dropped":0}`),
		run("curl -i 127.0.0.1:8000/stats", "Lab-Replica: 1", `{"subscribers":1,"published":0,"delivered":0,"dropped":0}`),
		run("curl -i 127.0.0.1:8000/stats", "Lab-Replica: 2", `{"subscribers":0,"published":1,"delivered":0,"dropped":0}`),
		stopped("go run ./internal/subscribe", "left"),
		stopped("go run ./loadtest/cluster 2_mutex/notifier"),

		start("go run ./loadtest/cluster 5_redis/notifier"),
		start("go run ./internal/subscribe"),
		run(`curl -i -d '{"name":"a"}' 127.0.0.1:8000/resources`, "Lab-Replica: 2", `{"event":"created","id":1,"seq":1}`),
		awaits("go run ./internal/subscribe", `{"event":"created","id":1,"seq":1}`),
		run("curl -i 127.0.0.1:8000/stats", "Lab-Replica: 3", `{"subscribers":1,"published":1,"delivered":1,"dropped":0}`),
		run("curl -i 127.0.0.1:8000/stats", "Lab-Replica: 1", `{"subscribers":1,"published":1,"delivered":1,"dropped":0}`),
		run("curl -i 127.0.0.1:8000/stats", "Lab-Replica: 2", `{"subscribers":1,"published":1,"delivered":1,"dropped":0}`),
		stopped("go run ./internal/subscribe", "left"),
		stopped("go run ./loadtest/cluster 5_redis/notifier"),

		run("go run ./loadtest -subject counter -strategy mutex,redis,redis-getset",
			"counter   mutex ×3         split         ✓",
			"counter   redis-getset ×3  lost updates  ✓",
			"counter   redis ×3         ok            ✓",
			"the race detector, built into all 3 replicas, reported nothing"),
		run("LAB_EXERCISE=1 go test -race -run TestGetSetLosesUpdates ./5_redis/counter",
			"exercise mode: this version must pass the same suite as the safe versions", "lost updates: ",
			"FAIL\tconcurrencylab/5_redis/counter").exits(1),

		// The README's own commands: the cluster as a background job of
		// the shell, stopped with kill %1.
		start("go run ./loadtest/cluster 2_mutex/counter &"),
		run(`go tool hey -n 20000 -c 200 "http://127.0.0.1:8000/inc?name=i"`, "[200]\t20000 responses"),
		run(`curl "127.0.0.1:8000/get?name=i"`, "i: 6666"),
		killJob("go run ./loadtest/cluster 2_mutex/counter &", "stopping..."),
	}},
	{"the whole lab", []step{
		run("go run ./loadtest",
			"counter     naive            race           ✓",
			"counter     mutex ×3         split          ✓",
			"counter     redis-getset ×3  lost updates   ✓",
			"counter     redis ×3         ok             ✓",
			"counter     redis-cache ×3   stale reads    ✓",
			"matchmaker  mutex ×3         broken         ✓",
			"matchmaker  redis ×3         ok             ✓",
			"notifier    mutex ×3         missed events  ✓",
			"notifier    redis ×3         ok             ✓",
			"25 versions in"),
		start("go run ./loadtest -web"),
		// The whole run, as go run ./loadtest above (75 s warm).
		awaits("go run ./loadtest -web", "the live page keeps the results until Ctrl-C").within(5 * time.Minute),
		run("curl -s 127.0.0.1:8080/results.json", `"command": "go run ./loadtest -web",`, `"as_declared": true,`),
		stopped("go run ./loadtest -web", "loadtest: [3/25] counter naive: race ✓ (", "the live page is at http://127.0.0.1:8080/"),
		// go test -race ./... runs in "before you start".
	}},
}

// A lesson is a part of the guide that starts and ends with no server
// running.
type lesson struct {
	name  string
	steps []step
}

// A step is one thing a learner does.
type step struct {
	action action
	cmd    string        // the command line, exactly as in the guide
	in     string        // for a process: the terminal's name, when cmd runs in two at once
	want   []string      // what the guide shows of its output and says to look for
	exit   int           // its exit status; anyFailure, or anyStatus
	wait   time.Duration // for an await, if longer than outputWait
}

type action int

const (
	actStart action = iota // run cmd in a terminal of its own, and wait until it is ready
	actRun                 // run cmd to its end
	actAwait               // wait for a running cmd to print want[0]
	actStop                // press Ctrl-C in cmd's terminal, and wait for it to exit
	actExits               // wait for a running cmd to exit by itself
)

func (a action) String() string {
	return [...]string{"start", "run", "await", "Ctrl-C", "exits"}[a]
}

// Exit statuses a step may ask for besides a number.
const (
	anyFailure = -1000 - iota
	anyStatus
)

func start(cmd string) step               { return step{action: actStart, cmd: cmd} }
func run(cmd string, want ...string) step { return step{action: actRun, cmd: cmd, want: want} }
func awaits(cmd string, line string) step {
	return step{action: actAwait, cmd: cmd, want: []string{line}}
}
func stopped(cmd string, want ...string) step {
	return step{action: actStop, cmd: cmd, want: want, exit: anyStatus} // go run exits 1 on Ctrl-C, whatever its program does
}
func exited(cmd string, want ...string) step {
	return step{action: actExits, cmd: cmd, want: want, exit: anyFailure}
}

// killJob is `kill %1` in the shell that started job in the background
// (job ends in " &"): the shell signals the job's process group, as Ctrl-C
// does a terminal's.
func killJob(job string, want ...string) step {
	s := stopped("kill %1", want...)
	s.in = job
	return s
}

func (s step) exits(code int) step         { s.exit = code; return s }
func (s step) within(d time.Duration) step { s.wait = d; return s }
func (s step) inTerminal(name string) step { s.in = name; return s }

// name names the step's process: its terminal's name, or its command.
func (s step) name() string {
	if s.in != "" {
		return s.in
	}
	return s.cmd
}

// ready is what a started command prints once it can be used.
func (s step) ready() string {
	switch {
	case strings.Contains(s.cmd, "internal/subscribe"):
		return "subscribed to"
	case strings.Contains(s.cmd, "loadtest/cluster"):
		return "Ctrl-C stops them all."
	case strings.Contains(s.cmd, "loadtest -web"):
		return "the live page is at"
	}
	return "INFO listening url="
}
