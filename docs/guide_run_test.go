//go:build lab && unix

package docs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"concurrencylab/internal/labtest"
)

// TestMain exits without the race detector's one-second pause.
func TestMain(m *testing.M) { labtest.Exit(m.Run()) }

// guideEnv turns on TestGuideRuns.
const guideEnv = "LAB_GUIDE"

// guideAddr is the address every server in the guide listens on.
const guideAddr = "127.0.0.1:8000"

const (
	// readyWait bounds the wait for a server to listen or a subscriber to
	// subscribe: long enough for `go run` to compile on a cold cache.
	readyWait = 3 * time.Minute
	// commandWait bounds a command that runs to its end (the harness in
	// full takes under a minute here; `go test -race ./...` some 20 s).
	commandWait = 5 * time.Minute
	// stopWait bounds the wait for a process to exit once asked to (the
	// deadlocked server takes its 10 s of grace) or by itself.
	stopWait = 30 * time.Second
	// outputWait bounds the wait for a line from a running process.
	outputWait = 30 * time.Second
)

// TestGuideRuns follows the guide as a learner would, from the module's
// root on a clean checkout: it starts each server in its own process group
// (a terminal of its own), runs each command to its end, presses Ctrl-C
// (SIGINT to the group) where the guide says to, and checks each command's
// exit status and the lines the guide says it prints.
func TestGuideRuns(t *testing.T) {
	if os.Getenv(guideEnv) != "1" {
		t.Skipf("set %s=1 to run every step of the guide (some minutes; port 8000 must be free)", guideEnv)
	}
	for _, l := range lessons {
		t.Run(l.name, func(t *testing.T) {
			if ln, err := net.Listen("tcp", guideAddr); err != nil {
				t.Fatalf("the guide's servers listen on %s, which is taken: %v", guideAddr, err)
			} else {
				ln.Close()
			}
			lr := &learner{t: t, running: map[string]*process{}}
			t.Cleanup(lr.killAll)
			for _, s := range l.steps {
				lr.do(s)
				if t.Failed() {
					return // later steps build on this one
				}
			}
			for name := range lr.running {
				t.Errorf("%s is still running at the end of the lesson: the lesson should stop it", name)
			}
		})
	}
}

// String is how the step is shown as it starts: the command line as the
// learner types it, and in which terminal.
func (s step) String() string {
	switch s.action {
	case actStart:
		if s.in != "" {
			return fmt.Sprintf("$ %s    # in a terminal of its own, %s's, until it prints %q", s.cmd, s.in, s.ready())
		}
		return fmt.Sprintf("$ %s    # in a terminal of its own, until it prints %q", s.cmd, s.ready())
	case actRun:
		return "$ " + s.cmd
	case actAwait:
		return fmt.Sprintf("# in the terminal of %s, wait for %q", s.name(), s.want[0])
	case actStop:
		if strings.HasPrefix(s.cmd, "kill ") {
			return fmt.Sprintf("$ %s    # in the shell of %s", s.cmd, s.name())
		}
		return fmt.Sprintf("# Ctrl-C in the terminal of %s", s.name())
	default:
		return fmt.Sprintf("# wait for %s to exit by itself", s.name())
	}
}

// A learner runs the steps of one lesson and keeps its terminals.
type learner struct {
	t       *testing.T
	running map[string]*process // by step name: what runs in a terminal
}

func (lr *learner) do(s step) {
	t := lr.t
	t.Helper()
	// A line as the step starts and one as it ends, however it ends (a
	// Fatalf too): under go test -v (.ci/run) they stream, so a long run
	// says what it is doing, and what took the time.
	t.Logf("%s", s)
	start := time.Now()
	defer func() { t.Logf("  (%s: %v)", s.action, time.Since(start).Round(100*time.Millisecond)) }()
	switch s.action {
	case actStart:
		if lr.running[s.name()] != nil {
			t.Fatalf("%s is already running", s.name())
		}
		p := startProcess(t, s.cmd)
		lr.running[s.name()] = p
		if !p.await(s.ready(), readyWait) {
			t.Fatalf("%s: no %q within %v; its output:\n%s", s.name(), s.ready(), readyWait, p.output())
		}
	case actRun:
		ctx, cancel := context.WithTimeout(t.Context(), commandWait)
		defer cancel()
		out, code := runCommand(ctx, s.cmd)
		t.Logf("%s(exit status %d)", lastLines(out), code)
		if ctx.Err() != nil {
			t.Fatalf("%s: still running after %v", s.cmd, commandWait)
		}
		lr.check(s, out, code)
	case actAwait:
		p := lr.process(s)
		wait := cmp.Or(s.wait, outputWait)
		if !p.await(s.want[0], wait) {
			t.Fatalf("%s: no %q within %v; its output:\n%s", s.name(), s.want[0], wait, p.output())
		}
	case actStop, actExits:
		p := lr.process(s)
		if s.action == actStop {
			p.interrupt()
		}
		code, ok := p.wait(stopWait)
		if !ok {
			t.Fatalf("%s: still running %v after %s; its output:\n%s", s.name(), stopWait, map[action]string{actStop: "Ctrl-C", actExits: "it should have exited"}[s.action], p.output())
		}
		delete(lr.running, s.name())
		out := p.output()
		t.Logf("%s (%s):\n%s(exit status %d)", s.name(), s.action, lastLines(out), code)
		lr.check(s, out, code)
	}
}

func (lr *learner) process(s step) *process {
	p := lr.running[s.name()]
	if p == nil {
		lr.t.Fatalf("%s is not running", s.name())
	}
	return p
}

// check compares what a command printed and its exit status with the step.
func (lr *learner) check(s step, out string, code int) {
	t := lr.t
	t.Helper()
	switch {
	case s.exit == anyFailure && code == 0:
		t.Errorf("%s: exit status 0, want a failure", s.name())
	case s.exit != anyFailure && s.exit != anyStatus && code != s.exit:
		t.Errorf("%s: exit status %d, want %d", s.name(), code, s.exit)
	}
	for _, w := range s.want {
		if !strings.Contains(out, w) {
			t.Errorf("%s: the guide says it prints %q; it did not", s.name(), w)
		}
	}
	if t.Failed() {
		t.Logf("its output:\n%s", lastLines(out))
	}
}

func (lr *learner) killAll() {
	for _, p := range lr.running {
		p.kill()
	}
}

// runCommand runs a command line with bash from the module's root, as a
// learner types it, and returns its combined output and exit status.
func runCommand(ctx context.Context, line string) (string, int) {
	cmd := exec.CommandContext(ctx, "bash", "-c", line)
	cmd.Dir = ".."
	cmd.Env = learnerEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	return string(out), exitCode(err)
}

// learnerEnv is this process's environment without the variables that only
// the lab's own tests set.
func learnerEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, guideEnv+"=")
	})
}

func exitCode(err error) int {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitCode()
	default:
		return -1
	}
}

// A process is a command left running, as in a terminal of its own.
type process struct {
	cmd  *exec.Cmd
	out  *labtest.SyncBuffer
	done chan struct{} // closed when it has exited
	code int           // its exit status, once done is closed
}

func startProcess(t *testing.T, line string) *process {
	t.Helper()
	p := &process{out: &labtest.SyncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command("bash", "-c", line)
	p.cmd.Dir = ".."
	p.cmd.Env = learnerEnv()
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	// A group of its own, as a terminal's foreground job: Ctrl-C reaches
	// bash, `go run` and the server it started.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	go func() {
		p.code = exitCode(p.cmd.Wait())
		close(p.done)
	}()
	return p
}

// await polls the output for a line containing s until the deadline or the
// process's exit, whichever comes first.
func (p *process) await(s string, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if strings.Contains(p.output(), s) {
			return true
		}
		select {
		case <-p.done:
			return strings.Contains(p.output(), s)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return false
}

func (p *process) interrupt() { syscall.Kill(-p.cmd.Process.Pid, syscall.SIGINT) }

func (p *process) kill() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

func (p *process) wait(d time.Duration) (int, bool) {
	select {
	case <-p.done:
		return p.code, true
	case <-time.After(d):
		return 0, false
	}
}

func (p *process) output() string { return p.out.String() }

// lastLines is the end of a command's output, enough to read it: a
// subscriber prints a line for each of some 100,000 events.
func lastLines(out string) string {
	const keep = 80
	lines := strings.SplitAfter(out, "\n")
	if len(lines) <= keep {
		return out
	}
	return fmt.Sprintf("[... %d lines]\n", len(lines)-keep) + strings.Join(lines[len(lines)-keep:], "")
}
