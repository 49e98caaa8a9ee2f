// Package doctor is the lab's preflight check, `go run ./loadtest/doctor`
// (also `go run ./loadtest doctor`): can this machine run the lab? It uses
// the standard library only, so that on a fresh machine it answers without
// waiting for the rest of the lab (the harness, hey) to compile.
package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	goversion "go/version"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
)

// A mark opens each line of the doctor's report.
type mark string

const (
	passed  mark = "✓"
	failed  mark = "✗" // needed, and missing or broken: exit status 1
	missing mark = "–" // optional, and missing: the lab runs without it
)

// A finding is what one check saw.
type finding struct {
	mark  mark
	found string // what the check found, in a few words
	fix   string // what to do about it, when the mark is not passed
}

// pass is a passed finding: what was found, and nothing to do.
func pass(format string, a ...any) finding {
	return finding{mark: passed, found: fmt.Sprintf(format, a...)}
}

// A check is one line of the report. They run in order, so that a failure
// is named before the checks it causes to fail (no cgo, so no -race), and
// the optional ones come last.
type check struct {
	name string
	run  func(ctx context.Context, d doctor, f facts) finding
}

var checks = []check{
	{"Go version", checkGoVersion},
	{"cgo enabled", checkCgo},
	{"C compiler", checkCC},
	{"race detector", checkRace},
	{"hey", checkHey},
	{"ports", checkPorts},
	{"open files", checkOpenFiles},
	{"CPUs", checkCPUs},
	{"ab", checkOptional("ab", "-V", "optional, for `-load ab` and the guide's ab commands: apt-get install apache2-utils (Debian/Ubuntu) / brew install httpd (macOS)")},
	{"wrk", checkOptional("wrk", "-v", "optional, for `-load wrk`: apt-get install wrk / brew install wrk")},
}

// A doctor runs the checks. Everything it depends on is a field, so that
// a test can change what the go command sees, or which port must be free,
// without touching its own process's environment.
type doctor struct {
	goCmd    string                       // the go command: "go", or a test's absolute path
	env      []string                     // the environment of every command run; nil for this process's
	port     int                          // the port the workshop guide's commands use: it must be free
	lookPath func(string) (string, error) // finds programs: exec.LookPath, or a test's stand-in
}

// guidePort is the port the workshop guide's commands use: every lab
// server's default -addr.
const guidePort = 8000

// Run is `go run ./loadtest/doctor`, the preflight check a learner runs
// first: a line per thing the lab needs (the race detector above all,
// which needs cgo and a C compiler), each with what to do when it is
// missing, then a verdict. Exit status 0 if every needed check passed, 1
// if not, 2 for an argument: it takes none but -h.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./loadtest/doctor\n\nChecks that this machine can run the lab: Go, cgo and a C compiler for the\nrace detector, hey, ports, open files; ab and wrk are optional. Run it first.\n")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "doctor: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	d := doctor{goCmd: "go", port: guidePort, lookPath: exec.LookPath}
	return d.run(ctx, stdout)
}

// run prints a line per check as it finishes (a cold race build takes a
// while), then the verdict, and returns the exit status.
func (d doctor) run(ctx context.Context, w io.Writer) int {
	f := d.gather(ctx)
	width := 0
	for _, c := range checks {
		width = max(width, len(c.name)+1)
	}
	var fails int
	for _, c := range checks {
		r := c.run(ctx, d, f)
		line := fmt.Sprintf("%s %-*s %s", r.mark, width, c.name+":", r.found)
		if r.mark != passed && r.fix != "" {
			line += " — " + r.fix
		}
		fmt.Fprintln(w, line)
		if r.mark == failed {
			fails++
		}
	}
	fmt.Fprintln(w, verdict(fails))
	if fails > 0 {
		return 1
	}
	return 0
}

// verdict is the report's last line.
func verdict(fails int) string {
	switch fails {
	case 0:
		return "ready: every needed check passed"
	case 1:
		return "not ready: 1 needed check failed (marked ✗)"
	default:
		return fmt.Sprintf("not ready: %d needed checks failed (marked ✗)", fails)
	}
}

// facts are what the go command says about the toolchain, asked once:
// several checks read them.
type facts struct {
	goEnv map[string]string // go env's answer, by variable
	err   error             // why go env failed, if it did
	cc    string            // the C compiler's path; "" if not found
}

func (d doctor) gather(ctx context.Context) facts {
	var f facts
	out, err := d.goOutput(ctx, "", "env", "-json", "GOVERSION", "GOMOD", "CGO_ENABLED", "CC", "GOOS", "GOARCH", "GOEXE")
	if err == nil {
		err = json.Unmarshal([]byte(out), &f.goEnv)
	}
	if err != nil {
		f.err = fmt.Errorf("%s env: %w", d.goCmd, err)
		return f
	}
	if cc := strings.Fields(f.goEnv["CC"]); len(cc) > 0 {
		f.cc, _ = d.lookPath(cc[0])
	}
	return f
}

// goOutput runs the go command in dir ("" for the current one) with the
// doctor's environment and returns what it printed; an error is the first
// line that says what went wrong.
func (d doctor) goOutput(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, d.goCmd, args...)
	cmd.Dir, cmd.Env = dir, d.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if line := firstErrorLine(stderr.String()); line != "" {
			return "", errors.New(line)
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// firstErrorLine is the first line of the go command's errors that is not
// a "# package" header: the one that says what is wrong.
func firstErrorLine(s string) string {
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "# ") {
			return line
		}
	}
	return ""
}

// installGo is the advice for a missing or old Go.
const installGo = "install Go 1.26 or newer from https://go.dev/dl/"

func checkGoVersion(_ context.Context, d doctor, f facts) finding {
	if f.err != nil {
		return finding{failed, f.err.Error(), installGo}
	}
	gomod := f.goEnv["GOMOD"]
	if gomod == "" || gomod == os.DevNull {
		return finding{failed, f.goEnv["GOVERSION"] + ", but no go.mod here", "cd into the lab (the folder with go.mod) and run go run ./loadtest/doctor"}
	}
	data, err := os.ReadFile(gomod)
	if err != nil {
		return finding{failed, err.Error(), "run the doctor from inside the lab"}
	}
	return judgeGoVersion(f.goEnv["GOVERSION"], goDirective(data))
}

// goDirective is go.mod's `go` line: the oldest Go the lab builds with.
func goDirective(gomod []byte) string {
	for line := range strings.Lines(string(gomod)) {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "go" {
			return f[1]
		}
	}
	return ""
}

// judgeGoVersion compares the toolchain's version (go1.26.8) with go.mod's
// (1.26.0).
func judgeGoVersion(have, want string) finding {
	v, _, _ := strings.Cut(have, " ") // "go1.26.8 X:nodwarf5" names an experiment
	switch {
	case want == "":
		return pass("%s (go.mod names no version)", have)
	case !goversion.IsValid(v):
		return pass("%s, a development toolchain: not compared with go.mod's go %s", have, want)
	case goversion.Compare(v, "go"+want) < 0:
		return finding{failed, fmt.Sprintf("%s, older than go.mod's go %s", have, want), installGo}
	}
	return pass("%s (go.mod asks for %s or newer)", have, want)
}

func checkCgo(_ context.Context, _ doctor, f facts) finding {
	switch {
	case f.err != nil:
		return finding{failed, "unknown: go env failed", "see Go version"}
	case f.goEnv["CGO_ENABLED"] == "1":
		return pass("CGO_ENABLED=1")
	case f.cc == "":
		// Go turns cgo off by itself when it finds no C compiler.
		return finding{failed, "CGO_ENABLED=" + f.goEnv["CGO_ENABLED"] + ", and no C compiler", "the race detector needs cgo: install a C compiler (see C compiler), then export CGO_ENABLED=1 if still 0"}
	}
	return finding{failed, "CGO_ENABLED=" + f.goEnv["CGO_ENABLED"], "the race detector needs cgo: export CGO_ENABLED=1"}
}

// installCC is the advice for a missing C compiler.
const installCC = "install gcc: apt-get install gcc (Debian/Ubuntu) / xcode-select --install (macOS)"

// checkCC finds go env CC's program and runs it: on macOS, /usr/bin/clang
// is there even without the developer tools, and only says so when run.
func checkCC(ctx context.Context, d doctor, f facts) finding {
	if f.err != nil {
		return finding{failed, "unknown: go env failed", "see Go version"}
	}
	cc := f.goEnv["CC"]
	if f.cc == "" {
		return finding{failed, fmt.Sprintf("CC=%q not found on PATH", cc), installCC}
	}
	cmd := exec.CommandContext(ctx, f.cc, "--version")
	cmd.Env = d.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return finding{failed, fmt.Sprintf("%s does not run: %s", f.cc, firstLine(string(out), err)), installCC}
	}
	return pass("%s (%s)", f.cc, firstLine(string(out), nil))
}

// firstLine is the first non-empty line of out, or err's text if none.
func firstLine(out string, err error) string {
	if line := firstErrorLine(out); line != "" {
		return line
	}
	if err != nil {
		return err.Error()
	}
	return "no output"
}

// raceTargets are where the race detector runs: Go 1.26's
// RaceDetectorSupported, in $(go env GOROOT)/src/internal/platform/supported.go.
var raceTargets = []string{
	"linux/amd64", "linux/arm64", "linux/loong64", "linux/ppc64le", "linux/riscv64", "linux/s390x",
	"darwin/amd64", "darwin/arm64",
	"freebsd/amd64", "netbsd/amd64", "windows/amd64",
}

// raceProbe has a data race (the race detector article's first example,
// with an int): main and its goroutine each write x, unordered.
const raceProbe = `package main

var x int

func main() {
	done := make(chan bool)
	go func() {
		x = 1
		done <- true
	}()
	x = 2
	<-done
}
`

// checkRace builds raceProbe with -race and runs it: a report of its race
// proves cgo, the C compiler and the race runtime work together here,
// which the lab's verdicts depend on.
func checkRace(ctx context.Context, d doctor, f facts) finding {
	if f.err != nil {
		return finding{failed, "unknown: go env failed", "see Go version"}
	}
	target := f.goEnv["GOOS"] + "/" + f.goEnv["GOARCH"]
	if !slices.Contains(raceTargets, target) {
		return finding{failed, "not supported on " + target,
			"run the lab on one of " + strings.Join(raceTargets, ", ") + "; here, only go run ./loadtest -race=false runs"}
	}
	dir, err := os.MkdirTemp("", "loadtest-doctor-")
	if err != nil {
		return finding{failed, err.Error(), "free some space in " + os.TempDir()}
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "probe.go"), []byte(raceProbe), 0o644); err != nil {
		return finding{failed, err.Error(), "free some space in " + os.TempDir()}
	}
	// In a folder of its own, the probe builds without the lab's go.mod.
	bin := filepath.Join(dir, "probe"+f.goEnv["GOEXE"])
	if _, err := d.goOutput(ctx, dir, "build", "-race", "-o", bin, "probe.go"); err != nil {
		return finding{failed, target + " supported, but go build -race fails: " + err.Error(), raceFix(f)}
	}
	probe := exec.CommandContext(ctx, bin)
	// Report at once, not after the default second's wait, and on stderr.
	probe.Env = append(slices.Clip(d.environ()), "GORACE=atexit_sleep_ms=0")
	out, err := probe.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 66 || !strings.Contains(string(out), "WARNING: DATA RACE") {
		return finding{failed, target + " supported, go build -race works, but the probe's race went unreported: " + firstLine(string(out), err),
			"see https://go.dev/doc/articles/race_detector#Requirements"}
	}
	return pass("%s supported; a probe built with -race reported its data race", target)
}

// raceFix is what to do when go build -race fails: mostly, what the checks
// before it already said.
func raceFix(f facts) string {
	switch {
	case f.goEnv["CGO_ENABLED"] != "1":
		return "enable cgo (see cgo enabled): export CGO_ENABLED=1"
	case f.cc == "":
		return "install a C compiler (see C compiler)"
	}
	return "build any program with go build -race to see the whole error"
}

// environ is the environment the doctor's commands run with.
func (d doctor) environ() []string {
	if d.env == nil {
		return os.Environ()
	}
	return d.env
}

// checkHey asks the go command for hey, a tool in go.mod, as the guide's
// `go tool hey` does: it builds hey the first time.
func checkHey(ctx context.Context, d doctor, f facts) finding {
	if f.err != nil {
		return finding{failed, "unknown: go env failed", "see Go version"}
	}
	gomod := f.goEnv["GOMOD"]
	if gomod == "" || gomod == os.DevNull {
		return finding{failed, "no go.mod here", "cd into the lab (the folder with go.mod)"}
	}
	fix := "go mod download, then run the doctor again"
	if f.goEnv["CGO_ENABLED"] == "1" && f.cc == "" {
		fix = "install a C compiler (see C compiler): with cgo on, building hey needs one"
	}
	path, err := d.goOutput(ctx, filepath.Dir(gomod), "tool", "-n", "hey")
	if err == nil {
		_, err = os.Stat(path)
	}
	if err != nil {
		return finding{failed, "go tool -n hey: " + err.Error(), fix}
	}
	return pass("go tool hey is %s", path)
}

// checkPorts listens where the lab does: the harness on free ports
// (127.0.0.1:0), the guide's commands on d.port.
func checkPorts(_ context.Context, d doctor, _ facts) finding {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return finding{failed, "cannot listen on 127.0.0.1: " + err.Error(), "the lab needs loopback TCP: check the firewall, or the container's network"}
	}
	ln.Close()
	addr := fmt.Sprintf("127.0.0.1:%d", d.port)
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		other := fmt.Sprintf("127.0.0.1:%d", d.port+1)
		if d.port >= 65535 {
			other = fmt.Sprintf("127.0.0.1:%d", guidePort+1)
		}
		advice := fmt.Sprintf("stop it, or run the servers with -addr %s and point the load there", other)
		if errors.Is(err, syscall.EADDRINUSE) {
			return finding{failed, addr + " is busy", "something is listening on " + addr + ": " + advice}
		}
		return finding{failed, "cannot listen on " + addr + ": " + err.Error(), advice}
	}
	ln.Close()
	return pass("free ports on 127.0.0.1 ok; %s (the guide's) is free", addr)
}

// wantOpenFiles is how many files a Go process of the lab must be able to
// open: the notifier benchmark's 1,000 websocket subscribers are 2,000
// sockets in one process (client and server ends), plus the rest.
const wantOpenFiles = 4096

func checkOpenFiles(_ context.Context, _ doctor, _ facts) finding {
	limit, ok, err := openFilesLimit()
	switch {
	case err != nil:
		return finding{failed, "getrlimit: " + err.Error(), "ulimit -n " + fmt.Sprint(wantOpenFiles)}
	case !ok:
		return pass("no RLIMIT_NOFILE on %s", runtime.GOOS)
	}
	return judgeOpenFiles(limit)
}

// judgeOpenFiles compares the limit a Go process gets with what the lab
// needs.
func judgeOpenFiles(limit uint64) finding {
	shown := fmt.Sprint(limit)
	if limit >= 1<<40 {
		shown = "unlimited"
	}
	if limit < wantOpenFiles {
		return finding{failed, fmt.Sprintf("a Go program may open %s files, the notifier benchmark needs %d", shown, wantOpenFiles),
			fmt.Sprintf("ulimit -n %d in the shell that runs the lab (if refused, raise the hard limit as root: nofile in /etc/security/limits.conf)", wantOpenFiles)}
	}
	return pass("a Go program may open %s files (the notifier benchmark needs %d)", shown, wantOpenFiles)
}

func checkCPUs(context.Context, doctor, facts) finding {
	return pass("%d (the lab's figures come from a 2-core machine: with more or fewer, expect other numbers)", runtime.NumCPU())
}

// checkOptional finds an optional program and shows its version line,
// which versionFlag makes it print. Missing, it is marked –, never ✗.
func checkOptional(name, versionFlag, install string) func(context.Context, doctor, facts) finding {
	return func(ctx context.Context, d doctor, _ facts) finding {
		path, err := d.lookPath(name)
		if err != nil {
			return finding{missing, "not found on PATH", install}
		}
		// wrk -v exits 1 after its version: only the output counts.
		cmd := exec.CommandContext(ctx, path, versionFlag)
		cmd.Env = d.env
		out, _ := cmd.CombinedOutput()
		line, _, _ := strings.Cut(firstLine(string(out), nil), " Copyright")
		return pass("%s (%s)", path, strings.TrimPrefix(line, "This is "))
	}
}
