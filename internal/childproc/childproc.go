// Package childproc runs a server as a child process, for the test kit and
// the harness alike: it starts the process in a process group of its own,
// keeps everything it writes, waits until it is ready (the lab's listening
// line, or for a server the lab did not build, an answer on its port), and
// stops it as Ctrl-C would, killing it if it does not stop in time.
package childproc

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"concurrencylab/internal/server"
)

// A Process is a server running as a child process. The caller should call
// Stop or Kill when done with it.
type Process struct {
	URL string // where it serves: from its listening line, or as given

	cmd    *exec.Cmd
	out    *Output       // its stdout and stderr, as they come
	exited chan struct{} // closed when the process has exited
	state  *os.ProcessState
}

// Ready says how Start knows that a server is ready.
type Ready struct {
	// URL, if set, is where the server will serve: Start polls it until
	// it answers any HTTP request. If empty, Start waits for the lab's
	// listening line (server.ListeningMsg) and takes the URL from it.
	URL string
	// Wait bounds the wait.
	Wait time.Duration
}

// Start starts cmd, whose Stdout and Stderr it sets, and waits until the
// server is ready. If it exits first, or is not ready in time, Start kills
// it and says why, with the first lines it wrote.
func Start(ctx context.Context, cmd *exec.Cmd, ready Ready) (*Process, error) {
	p := &Process{cmd: cmd, out: newOutput(), exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = ownGroup()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		cmd.Wait()
		p.state = cmd.ProcessState
		close(p.exited)
	}()

	ctx, cancel := context.WithTimeout(ctx, ready.Wait)
	defer cancel()
	name := cmd.Args[0]
	if ready.URL == "" {
		select {
		case <-p.out.listening:
			p.URL = p.out.URL()
		case <-p.exited:
			return nil, fmt.Errorf("%s exited before it listened (%s): %s", name, p.state, firstLines(p.Output(), 3))
		case <-ctx.Done():
			p.Kill()
			return nil, fmt.Errorf("%s did not say where it listens within %v: %s", name, ready.Wait, firstLines(p.Output(), 3))
		}
	} else {
		p.URL = ready.URL
	}
	if err := p.awaitAnswer(ctx); err != nil {
		p.Kill()
		return nil, err
	}
	return p, nil
}

// awaitAnswer polls the server until it answers any HTTP request. A lab
// server on HTTPS has a self-signed certificate: any answer will do.
func (p *Process) awaitAnswer(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // only to see that it answers
	}}
	defer client.CloseIdleConnections()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/lab-ready", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer at %s: %v: %s", p.cmd.Args[0], p.URL, err, firstLines(p.Output(), 3))
		case <-p.exited:
			return fmt.Errorf("%s exited before it answered (%s): %s", p.cmd.Args[0], p.state, firstLines(p.Output(), 3))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Running reports whether the process has not exited yet.
func (p *Process) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// AwaitExit waits up to d for the process to exit by itself, and reports
// whether it did.
func (p *Process) AwaitExit(d time.Duration) bool {
	select {
	case <-p.exited:
		return true
	case <-time.After(d):
		return false
	}
}

// Interrupt sends SIGINT to the process's group, as Ctrl-C does, and
// returns at once.
func (p *Process) Interrupt() { signalGroup(p.cmd.Process, os.Interrupt) }

// Stop asks the server to shut down (Interrupt) and kills it if it has not
// exited within wait. It reports whether the server stopped by itself.
func (p *Process) Stop(wait time.Duration) bool {
	if !p.Running() {
		return true
	}
	p.Interrupt()
	if p.AwaitExit(wait) {
		return true
	}
	p.Kill()
	return false
}

// Kill ends the process's group at once and waits for the process.
func (p *Process) Kill() {
	signalGroup(p.cmd.Process, os.Kill)
	<-p.exited
}

// ExitCode waits for the process to exit and returns its exit status: -1
// if a signal ended it.
func (p *Process) ExitCode() int {
	<-p.exited
	if ws, ok := p.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1
	}
	return p.state.ExitCode()
}

// Output is everything the process has written so far.
func (p *Process) Output() string { return p.out.String() }

// Output keeps what a child process writes, for its goroutines to write
// while another reads it, and notices the lab's listening line. The zero
// Output is ready to use.
type Output struct {
	mu        sync.Mutex    // guards buf, line and url
	buf       bytes.Buffer  // everything written
	line      []byte        // the line being written, until the listening line is seen
	url       string        // from the listening line; set before listening closes
	listening chan struct{} // closed once the listening line has been seen
}

func newOutput() *Output { return &Output{listening: make(chan struct{})} }

// NewOutput returns an empty Output.
func NewOutput() *Output { return newOutput() }

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	if o.url != "" {
		return len(p), nil
	}
	o.line = append(o.line, p...)
	for {
		i := bytes.IndexByte(o.line, '\n')
		if i < 0 {
			return len(p), nil
		}
		if url, ok := server.ListeningURL(string(o.line[:i])); ok {
			o.url, o.line = url, nil
			if o.listening != nil { // nil in a zero Output: no one waits
				close(o.listening)
			}
			return len(p), nil
		}
		o.line = o.line[i+1:]
	}
}

// String is everything written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// URL is the address from the listening line, once seen.
func (o *Output) URL() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.url
}

// firstLines returns the first n lines of s, joined by " | ".
func firstLines(s string, n int) string {
	lines := strings.SplitN(strings.TrimSpace(s), "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " | ")
}
