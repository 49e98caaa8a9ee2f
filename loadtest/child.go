package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"syscall"
	"time"
)

// Child-process timing.
const (
	// startWait bounds how long a server may take to say where it listens
	// and to answer its first request.
	startWait = 15 * time.Second
	// stopWait is how long a server gets to exit after SIGINT before it is
	// killed: a little more than the 10s internal/server's shutdown gives
	// requests in flight, after which a server exits 1 by itself.
	stopWait = 12 * time.Second
)

// listeningLine is how every lab server (internal/server) says where it
// listens: `... INFO listening url=http://127.0.0.1:41234`.
var listeningLine = regexp.MustCompile(`INFO listening url=(http://127\.0\.0\.1:\d+)`)

// A child is one version's server running as a child process on a free
// 127.0.0.1 port, with everything it writes kept for the verdict.
type child struct {
	url string // http://127.0.0.1:port, from its start-up line

	cmd    *exec.Cmd
	out    *outputBuffer // stdout and stderr, as they come
	exited chan struct{} // closed when the process has exited
	state  *os.ProcessState
}

// startChild runs bin, a lab server, on port 0 (the kernel picks a free
// one), with args after -addr, and waits until it answers HTTP.
func startChild(ctx context.Context, bin string, args ...string) (*child, error) {
	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	// Report every race as it happens and exit at once when asked to stop.
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	c := &child{cmd: cmd, out: newOutputBuffer(), exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = c.out, c.out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		cmd.Wait()
		c.state = cmd.ProcessState
		close(c.exited)
	}()

	ctx, cancel := context.WithTimeout(ctx, startWait)
	defer cancel()
	select {
	case <-c.out.listening:
		c.url = c.out.url
	case <-c.exited:
		return nil, fmt.Errorf("%s exited before listening (%s): %s", bin, c.state, firstLines(c.output(), 3))
	case <-ctx.Done():
		c.kill()
		return nil, fmt.Errorf("%s did not say where it listens within %v", bin, startWait)
	}
	if err := c.awaitAnswer(ctx); err != nil {
		c.kill()
		return nil, err
	}
	return c, nil
}

// awaitAnswer polls the server until it answers any HTTP request.
func (c *child) awaitAnswer(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.url+"/lab-harness-ping", nil)
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer: %w", c.url, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// running reports whether the process is still alive.
func (c *child) running() bool {
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// awaitExit waits up to d for the process to exit by itself and reports
// whether it did.
func (c *child) awaitExit(d time.Duration) bool {
	select {
	case <-c.exited:
		return true
	case <-time.After(d):
		return false
	}
}

// stop asks the server to shut down (SIGINT, as Ctrl-C does) and kills it
// if it has not exited within stopWait. It reports whether the server
// stopped by itself.
func (c *child) stop() bool {
	if !c.running() {
		return true
	}
	c.cmd.Process.Signal(os.Interrupt)
	if c.awaitExit(stopWait) {
		return true
	}
	c.kill()
	return false
}

// kill ends the process at once and waits for it.
func (c *child) kill() {
	c.cmd.Process.Kill()
	<-c.exited
}

// exitCode is the process's exit status once it has exited: -1 if a signal
// ended it.
func (c *child) exitCode() int {
	<-c.exited
	if ws, ok := c.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1
	}
	return c.state.ExitCode()
}

// output is everything the process has written so far.
func (c *child) output() string { return c.out.String() }

// outputBuffer keeps a child's output and notices its listening line.
type outputBuffer struct {
	mu        sync.Mutex
	buf       bytes.Buffer  // everything written, guarded by mu
	line      []byte        // the line being written, guarded by mu
	url       string        // from the listening line; set before listening closes
	listening chan struct{} // closed once the listening line has been seen
}

func newOutputBuffer() *outputBuffer {
	return &outputBuffer{listening: make(chan struct{})}
}

func (b *outputBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if b.url != "" {
		return len(p), nil
	}
	b.line = append(b.line, p...)
	for {
		i := bytes.IndexByte(b.line, '\n')
		if i < 0 {
			return len(p), nil
		}
		if m := listeningLine.FindSubmatch(b.line[:i]); m != nil {
			b.url = string(m[1])
			b.line = nil
			close(b.listening)
			return len(p), nil
		}
		b.line = b.line[i+1:]
	}
}

func (b *outputBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// firstLines returns the first n lines of s, joined by " | ".
func firstLines(s string, n int) string {
	var out []byte
	sc := bufio.NewScanner(bytes.NewReader([]byte(s)))
	for i := 0; i < n && sc.Scan(); i++ {
		if i > 0 {
			out = append(out, " | "...)
		}
		out = append(out, sc.Bytes()...)
	}
	return string(out)
}

// errHung reports a request that got no answer within its deadline.
var errHung = errors.New("no answer")
