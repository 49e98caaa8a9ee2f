package cluster

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"concurrencylab/internal/childproc"
)

// DefaultReplicas is how many replicas a cluster runs unless told.
const DefaultReplicas = 3

// Timing of the replicas.
const (
	startWait = 15 * time.Second // for a replica to say where it listens
	// stopWait is a replica's time to exit after SIGINT: a little more
	// than internal/server's 10s grace.
	stopWait = 12 * time.Second
)

// Config says what a cluster runs.
type Config struct {
	// Command is the server's command line: its binary and any
	// arguments that must come first. Start adds -addr 127.0.0.1:0, then
	// Args.
	Command  []string
	Args     []string // its flags after -addr (a 5_redis server's -redis)
	Env      []string // its environment; nil: this process's
	Replicas int      // how many; 0 means DefaultReplicas
	// Addr is where the proxy listens: "" picks a free 127.0.0.1 port.
	Addr string
	// Balancer is the kind of load balancer in front (StartBalancer's):
	// Auto, HAProxy or Embedded.
	Balancer string
	// Verbose makes the proxy log every request.
	Verbose bool
}

// A Cluster is several replicas of one server behind a proxy. The caller
// should call Stop.
type Cluster struct {
	URL      string               // the proxy's base URL: what clients use
	Replicas []*childproc.Process // each replica, its own URL in URL
	Balancer *Balancer            // the proxy: which it is, in its String

	once sync.Once
}

// Start starts cfg.Replicas replicas of cfg.Command, each on a free port, and
// the proxy in front of them. If any fails to start, Start stops the rest.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	n := cfg.Replicas
	if n == 0 {
		n = DefaultReplicas
	}
	// The replicas start at once: each takes a moment to say where it
	// listens, and a row of the harness starts three.
	c := &Cluster{Replicas: make([]*childproc.Process, n)}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			args := append(slices.Clone(cfg.Command[1:]), "-addr", "127.0.0.1:0")
			cmd := exec.Command(cfg.Command[0], append(args, cfg.Args...)...)
			cmd.Env = cfg.Env
			c.Replicas[i], errs[i] = childproc.Start(ctx, cmd, childproc.Ready{Wait: startWait})
		})
	}
	wg.Wait()
	var urls []string
	for i, err := range errs {
		if err != nil {
			c.Replicas = slices.DeleteFunc(c.Replicas, func(p *childproc.Process) bool { return p == nil })
			c.stopReplicas()
			return nil, fmt.Errorf("replica %d of %d: %w", i+1, n, err)
		}
		urls = append(urls, c.Replicas[i].URL)
	}
	b, err := StartBalancer(ctx, cfg.Balancer, cfg.Addr, urls, cfg.Verbose)
	if err != nil {
		c.stopReplicas()
		return nil, err
	}
	c.Balancer, c.URL = b, b.URL
	return c, nil
}

// ReplicaURLs are the replicas' own base URLs, in order.
func (c *Cluster) ReplicaURLs() []string {
	urls := make([]string, len(c.Replicas))
	for i, p := range c.Replicas {
		urls[i] = p.URL
	}
	return urls
}

// Stop stops the proxy and asks every replica to stop, as Ctrl-C would,
// giving each wait before it is killed. It reports whether all stopped by
// themselves in time; a replica that had exited already (killed by a test,
// or crashed) counts as stopped, and ExitCode tells.
func (c *Cluster) Stop(wait time.Duration) bool {
	clean := true
	c.once.Do(func() {
		// The replicas first: on SIGINT they answer whatever waits (a
		// matchmaker's clients) at once, which lets the proxy's own
		// graceful shutdown finish.
		clean = c.each(func(p *childproc.Process) bool { return !p.Running() || p.Stop(wait) })
		c.Balancer.Close()
	})
	return clean
}

// Kill kills every replica and stops the proxy.
func (c *Cluster) Kill() {
	c.each(func(p *childproc.Process) bool { p.Kill(); return true })
	c.Stop(0)
}

// each calls f on every replica at once and reports whether f was true for
// all of them.
func (c *Cluster) each(f func(p *childproc.Process) bool) bool {
	var wg sync.WaitGroup
	var mu sync.Mutex // guards all
	all := true
	for _, p := range c.Replicas {
		wg.Go(func() {
			if !f(p) {
				mu.Lock()
				all = false
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return all
}

func (c *Cluster) stopReplicas() {
	c.each(func(p *childproc.Process) bool { return p.Stop(stopWait) })
}

// Running reports whether every replica is still running.
func (c *Cluster) Running() bool {
	for _, p := range c.Replicas {
		if !p.Running() {
			return false
		}
	}
	return true
}

// AwaitExit waits up to d for any replica to exit, and reports whether one
// has.
func (c *Cluster) AwaitExit(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if !c.Running() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		c.Replicas[0].AwaitExit(min(time.Until(deadline), 20*time.Millisecond))
	}
}

// ExitCode is the first replica's exit code that is not 0, or 0.
func (c *Cluster) ExitCode() int {
	for _, p := range c.Replicas {
		if code := p.ExitCode(); code != 0 {
			return code
		}
	}
	return 0
}

// Output is what every replica wrote, each under a heading.
func (c *Cluster) Output() string {
	var b strings.Builder
	for i, p := range c.Replicas {
		fmt.Fprintf(&b, "==== replica %d (%s)\n%s\n", i+1, p.URL, p.Output())
	}
	return b.String()
}
