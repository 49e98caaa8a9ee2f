package labtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// childServerEnv, set in a test binary's environment, makes ServeIfChild
// serve instead of letting the tests run.
const childServerEnv = "LAB_CHILD_SERVER"

// childAddrPrefix starts the line on which a child server says where it
// listens.
const childAddrPrefix = "LAB_CHILD_LISTENING "

// ServeIfChild, called first in a package's TestMain, turns the test binary
// into a server when StartChild started it: serve runs on a 127.0.0.1 port,
// and the process exits 0 when serve returns (or dies the way serve makes it
// die). In a normal test run it returns at once.
func ServeIfChild(serve func(ln net.Listener) error) {
	if os.Getenv(childServerEnv) == "" {
		return
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "child server:", err)
		os.Exit(1)
	}
	fmt.Println(childAddrPrefix + ln.Addr().String())
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

	cmd    *exec.Cmd
	out    *SyncBuffer   // its stdout and stderr, as they come
	exited chan struct{} // closed when the process has exited
	err    error         // cmd.Wait's error, once exited is closed
}

// childStartWait bounds how long a child server may take to listen.
const childStartWait = 30 * time.Second

// StartChild starts a child server and waits until it listens. Cleanup
// kills it if it is still running.
func StartChild(t testing.TB) *Child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childServerEnv+"=1", "GORACE=atexit_sleep_ms=0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &Child{cmd: cmd, out: &SyncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = c.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-c.exited
	})

	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if a, ok := strings.CutPrefix(line, childAddrPrefix); ok {
				addr <- a
			}
			c.out.Write([]byte(line + "\n"))
		}
		io.Copy(io.Discard, stdout)
		c.err = cmd.Wait()
		close(c.exited)
	}()
	select {
	case a := <-addr:
		c.URL = "http://" + a
		return c
	case <-c.exited:
		t.Fatalf("the child server exited before it listened: %v\n%s", c.err, c.out.String())
	case <-time.After(childStartWait):
		t.Fatalf("the child server did not listen within %v\n%s", childStartWait, c.out.String())
	}
	return nil
}

// Wait waits for the child to exit, at most wait, and returns its exit code
// and everything it printed. It fails the test if the child is still running.
func (c *Child) Wait(t testing.TB, wait time.Duration) (code int, output string) {
	t.Helper()
	select {
	case <-c.exited:
	case <-time.After(wait):
		t.Fatalf("the child server is still running after %v\n%s", wait, c.out.String())
	}
	var exit *exec.ExitError
	switch {
	case c.err == nil:
		return 0, c.out.String()
	case errors.As(c.err, &exit):
		return exit.ExitCode(), c.out.String()
	default:
		t.Fatalf("waiting for the child server: %v", c.err)
		return 0, ""
	}
}

// Running reports whether the child has not exited yet.
func (c *Child) Running() bool {
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// Output returns what the child has printed so far.
func (c *Child) Output() string { return c.out.String() }

// Stop asks the child to shut down (SIGINT, as Ctrl-C) and waits for it, at most
// wait, returning its exit code and output.
func (c *Child) Stop(t testing.TB, wait time.Duration) (int, string) {
	t.Helper()
	c.cmd.Process.Signal(os.Interrupt)
	return c.Wait(t, wait)
}

// Get sends a GET to the child, giving up after wait; a request that does
// not complete in time returns an error that says so.
func (c *Child) Get(ctx context.Context, target string, wait time.Duration) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	resp, body, err := fetch(ctx, oneShotClient, "GET", c.URL+target)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return 0, "", fmt.Errorf("%s: GET %s did not complete within %v", hungMarker, target, wait)
	}
	if err != nil {
		return 0, "", err
	}
	return resp.StatusCode, body, nil
}

// SyncBuffer is a bytes.Buffer that a server's goroutines can write while
// the test reads it.
type SyncBuffer struct {
	mu  sync.Mutex   // guards buf
	buf bytes.Buffer // what was written, read only with mu held
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
