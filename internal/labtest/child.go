package labtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"concurrencylab/internal/childproc"
	"concurrencylab/internal/scenario"
)

// childServerEnv, set in a test binary's environment, makes ServeIfChild
// serve instead of letting the tests run.
const childServerEnv = "LAB_CHILD_SERVER"

// ServeIfChild, called first in a package's TestMain, turns the test binary
// into a server when StartChild started it: serve runs on a 127.0.0.1 port,
// and the process exits 0 when serve returns (or dies the way serve makes it
// die). serve must serve with server.Serve, which writes the listening line
// that StartChild waits for. In a normal test run it returns at once.
func ServeIfChild(serve func(ln net.Listener) error) {
	if os.Getenv(childServerEnv) == "" {
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "child server:", err)
		os.Exit(1)
	}
	if err := serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, "child server:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// A Child is a server running in a child process: the current test binary,
// re-executed, with ServeIfChild in its TestMain.
type Child struct {
	URL string // http://127.0.0.1:port
	p   *childproc.Process
}

// childStartWait bounds how long a child server may take to listen.
const childStartWait = 30 * time.Second

// StartChild starts a child server and waits until it listens. Cleanup
// kills it if it is still running.
func StartChild(t testing.TB) *Child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childServerEnv+"=1", "GORACE=atexit_sleep_ms=0")
	p, err := childproc.Start(t.Context(), cmd, childproc.Ready{Wait: childStartWait})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return &Child{URL: p.URL, p: p}
}

// Target is the child as a scenario target, over connections of its own:
// a request whose connection the server closed (after a panic, or as it
// died) fails at once instead of being retried on another.
func (c *Child) Target() *scenario.Target {
	return &scenario.Target{URL: c.URL, Client: oneShotClient}
}

// Wait waits for the child to exit, at most wait, and returns its exit code
// and everything it printed. It fails the test if the child is still running.
func (c *Child) Wait(t testing.TB, wait time.Duration) (code int, output string) {
	t.Helper()
	if !c.p.AwaitExit(wait) {
		t.Fatalf("the child server is still running after %v\n%s", wait, c.p.Output())
	}
	return c.p.ExitCode(), c.p.Output()
}

// Running reports whether the child has not exited yet.
func (c *Child) Running() bool { return c.p.Running() }

// Output returns what the child has printed so far.
func (c *Child) Output() string { return c.p.Output() }

// Stop asks the child to shut down (SIGINT, as Ctrl-C) and waits for it, at most
// wait, returning its exit code and output.
func (c *Child) Stop(t testing.TB, wait time.Duration) (int, string) {
	t.Helper()
	c.p.Interrupt()
	return c.Wait(t, wait)
}

// Get sends a GET to the child, giving up after wait; a request that does
// not complete in time returns an error that says so.
func (c *Child) Get(ctx context.Context, target string, wait time.Duration) (int, string, error) {
	resp, err := c.Target().Get(ctx, target, wait)
	return resp.Status, resp.Body, err
}

// SyncBuffer is a buffer that a server's goroutines can write while the
// test reads it.
type SyncBuffer = childproc.Output
