package redislab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"concurrencylab/internal/server"
)

// Kinds of Redis server.
const (
	Auto     = ""             // redis-server if it is on PATH, else Embedded
	Real     = "redis-server" // Debian's redis-server, a child process
	Embedded = "embedded"     // miniredis, in this process
	External = "external"     // one already running, at an address given
)

// Timing of a real redis-server child.
const (
	startWait = 10 * time.Second // until it answers PING
	stopWait  = 5 * time.Second  // after SIGTERM, before SIGKILL
)

// A Server is a Redis the lab started, or one it was pointed at. The
// caller should call Close.
type Server struct {
	Addr string // host:port
	Kind string // Real, Embedded or External

	note string // why this kind, where Auto chose it

	mini      *miniredis.Miniredis // Embedded
	stopClock func()               // Embedded: stops runClock and waits for it; Close calls it
	cmd       *exec.Cmd            // Real: the running child, nil while stopped
	exit      chan struct{}        // Real: closed when cmd has exited
}

// Start starts a Redis of the kind asked for (Auto picks), or, for
// External, checks the one at addr.
func Start(ctx context.Context, kind, addr string) (*Server, error) {
	switch kind {
	case Auto:
		if _, err := exec.LookPath("redis-server"); err == nil {
			return startReal(ctx)
		}
		s, err := startEmbedded()
		if err == nil {
			s.note = "; install redis-server to use the real one"
		}
		return s, err
	case Real:
		return startReal(ctx)
	case Embedded:
		return startEmbedded()
	case External:
		rdb, err := Dial(ctx, Options(addr))
		if err != nil {
			return nil, err
		}
		rdb.Close()
		return &Server{Addr: addr, Kind: External}, nil
	}
	return nil, fmt.Errorf("no Redis of kind %q: use %q, %q or %q", kind, Real, Embedded, External)
}

// String is the one line that says which Redis this is.
func (s *Server) String() string {
	switch s.Kind {
	case Real:
		return fmt.Sprintf("Redis: redis-server on %s, a child process with no persistence", s.Addr)
	case Embedded:
		return fmt.Sprintf("Redis: embedded (miniredis, in this process) on %s%s", s.Addr, s.note)
	}
	return fmt.Sprintf("Redis: the one already running on %s", s.Addr)
}

// Client returns a client of s with the lab's options. The caller should
// close it.
func (s *Server) Client() *redis.Client { return redis.NewClient(Options(s.Addr)) }

// Flush empties s, between two runs that share it.
func (s *Server) Flush(ctx context.Context) error {
	rdb := s.Client()
	defer rdb.Close()
	return rdb.FlushAll(ctx).Err()
}

func startEmbedded() (*Server, error) {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("starting the embedded Redis: %w", err)
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go runClock(m, stop, stopped)
	var once sync.Once
	stopClock := func() { once.Do(func() { close(stop); <-stopped }) }
	return &Server{Addr: m.Addr(), Kind: Embedded, mini: m, stopClock: stopClock}, nil
}

// ttlTick is how often the embedded Redis's keys expire.
const ttlTick = 50 * time.Millisecond

// runClock makes the keys of m expire as the clock runs, as in Redis, every
// ttlTick, until stop is closed; then it closes stopped. miniredis's TTLs
// run down only when told to, which suits unit tests, but a lease kept in
// a key's expiry (5_redis/matchmaker) would never end. (Its ClockTTL does
// the same on every command, sorting every key each time.)
func runClock(m *miniredis.Miniredis, stop <-chan struct{}, stopped chan<- struct{}) {
	defer close(stopped)
	tick := time.NewTicker(ttlTick)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case now := <-tick.C:
			m.FastForward(now.Sub(last))
			last = now
		case <-stop:
			return
		}
	}
}

func startReal(ctx context.Context) (*Server, error) {
	port, err := server.FreePort()
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Kind: Real}
	if err := s.run(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// run starts redis-server on s.Addr and waits until it answers.
func (s *Server) run(ctx context.Context) error {
	_, port, _ := net.SplitHostPort(s.Addr)
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--loglevel", "warning")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting redis-server: %w", err)
	}
	exit := make(chan struct{})
	go func() { cmd.Wait(); close(exit) }()
	s.cmd, s.exit = cmd, exit

	ctx, cancel := context.WithTimeout(ctx, startWait)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, Protocol: 2})
	defer rdb.Close()
	for {
		if rdb.Ping(ctx).Err() == nil {
			return nil
		}
		select {
		case <-exit:
			s.cmd = nil
			return fmt.Errorf("redis-server on %s exited at start: %s", s.Addr, strings.TrimSpace(out.String()))
		case <-ctx.Done():
			s.kill()
			return fmt.Errorf("redis-server on %s did not answer within %v", s.Addr, startWait)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop stops the server, as a fault would, leaving it ready to Restart on
// the same address. The embedded one keeps its data; a real one, with no
// persistence, comes back empty. An External one cannot be stopped.
func (s *Server) Stop() error {
	switch s.Kind {
	case Embedded:
		s.mini.Close()
		return nil
	case Real:
		s.kill()
		return nil
	}
	return errors.New("the lab did not start this Redis, so it cannot stop it")
}

// Restart starts a stopped server again on the same address.
func (s *Server) Restart(ctx context.Context) error {
	switch s.Kind {
	case Embedded:
		// miniredis's Close cancels its context for good, and after a
		// Restart a blocking command (BLPOP) returns no reply at all: its
		// client hangs until its read times out. A new context, while no
		// connection is served, makes it block and answer as before.
		s.mini.Ctx, s.mini.CtxCancel = context.WithCancel(context.Background())
		return s.mini.Restart()
	case Real:
		return s.run(ctx)
	}
	return errors.New("the lab did not start this Redis, so it cannot restart it")
}

// Close stops the server for good, if the lab started it.
func (s *Server) Close() {
	switch s.Kind {
	case Embedded:
		s.stopClock()
		s.mini.Close()
	case Real:
		s.kill()
	}
}

// kill stops the child by its pid: SIGTERM, then SIGKILL if it is slow.
func (s *Server) kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exit:
	case <-time.After(stopWait):
		s.cmd.Process.Kill()
		<-s.exit
	}
	s.cmd = nil
}

func portOf(addr string) string {
	if _, port, err := net.SplitHostPort(addr); err == nil {
		return port
	}
	return "6379"
}
