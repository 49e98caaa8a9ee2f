//go:build lab

package server

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mainEnv makes the test binary run Main as a real server (see TestMain).
const mainEnv = "LAB_SERVER_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		os.Args = []string{os.Args[0], "-addr", "127.0.0.1:0"}
		Main(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello") }))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestDefaultsAreLoopbackAndSilent(t *testing.T) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg := Flags(fs)
	require.NoError(t, fs.Parse(nil))
	assert.Equal(t, "127.0.0.1:8000", cfg.Addr)
	assert.False(t, cfg.Verbose)

	srv := newHTTPServer(slog.Default(), false, http.NotFoundHandler())
	assert.Positive(t, srv.ReadHeaderTimeout)
	assert.Positive(t, srv.IdleTimeout)
}

// On SIGINT or SIGTERM, Main shuts down and the process exits 0.
func TestMainStopsOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0])
			cmd.Env = append(os.Environ(), mainEnv+"=1", "GORACE=atexit_sleep_ms=0") // no 1s pause at exit under -race
			stderr, err := cmd.StderrPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())

			logs := bufio.NewScanner(stderr)
			require.True(t, logs.Scan(), "no start-up line")
			_, url, ok := strings.Cut(logs.Text(), "url=")
			require.True(t, ok, "start-up line %q has no url", logs.Text())

			resp, err := http.Get(url)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, "hello\n", string(body))

			require.NoError(t, cmd.Process.Signal(sig))
			var rest strings.Builder
			for logs.Scan() {
				rest.WriteString(logs.Text() + "\n")
			}
			require.NoError(t, cmd.Wait(), "exit status; log:\n%s", rest.String())
			assert.Contains(t, rest.String(), "shutting down")
			assert.Contains(t, rest.String(), "stopped")
		})
	}
}

// A request in flight when the server is told to stop completes; new
// connections are refused meanwhile.
func TestServeFinishesRequestsInFlight(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	started, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		fmt.Fprintln(w, "finished")
	})
	ctx, stop := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, Config{Logger: discard()}, h) }()

	url := "http://" + ln.Addr().String()
	type reply struct {
		body string
		err  error
	}
	replied := make(chan reply, 1)
	go func() {
		resp, err := http.Get(url)
		if err != nil {
			replied <- reply{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		replied <- reply{string(body), err}
	}()
	<-started
	stop()

	// Once shutdown has begun the listener is closed.
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err == nil {
			c.Close()
		}
		return err != nil
	}, 10*time.Second, 5*time.Millisecond, "still accepting connections after stop")

	close(release)
	r := <-replied
	require.NoError(t, r.err)
	assert.Equal(t, "finished\n", r.body)
	assert.NoError(t, <-served)
}

func TestVerboseLogsEachRequest(t *testing.T) {
	for _, verbose := range []bool{false, true} {
		t.Run(fmt.Sprintf("verbose=%v", verbose), func(t *testing.T) {
			var logs syncBuffer
			logger := slog.New(slog.NewTextHandler(&logs, nil))
			srv := newHTTPServer(logger, verbose, http.NotFoundHandler())
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			go srv.Serve(ln)

			resp, err := http.Get("http://" + ln.Addr().String() + "/nowhere?x=1")
			require.NoError(t, err)
			resp.Body.Close()
			require.NoError(t, srv.Shutdown(t.Context())) // waits for the handler, and so for its log line

			if verbose {
				assert.Contains(t, logs.String(), `msg=request method=GET uri="/nowhere?x=1" status=404`)
			} else {
				assert.Empty(t, logs.String())
			}
		})
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// syncBuffer is a bytes.Buffer safe to use from the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestListeningURL(t *testing.T) {
	var buf bytes.Buffer
	logListening(slog.New(slog.NewTextHandler(&buf, nil)), "http://127.0.0.1:41234")
	url, ok := ListeningURL(strings.TrimSpace(buf.String()))
	assert.True(t, ok, buf.String())
	assert.Equal(t, "http://127.0.0.1:41234", url)

	url, ok = ListeningURL("2026/12/01 10:00:00 INFO listening url=https://127.0.0.1:8000")
	assert.True(t, ok)
	assert.Equal(t, "https://127.0.0.1:8000", url)

	_, ok = ListeningURL("2026/12/01 10:00:00 INFO request uri=/listening")
	assert.False(t, ok)
}

// A port already taken (most often by a server started with `go run ./X &`
// and left running): the error, still EADDRINUSE underneath, names the
// address and says how to stop that server or go around it, on one line as
// MainWithConfig logs it.
func TestRunAddrInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	next := port + 1
	if port == 65535 {
		next = 8001
	}

	err = Run(t.Context(), Config{Addr: ln.Addr().String(), Logger: discard()}, http.NotFoundHandler())
	require.Error(t, err)
	assert.ErrorIs(t, err, syscall.EADDRINUSE)
	msg := err.Error()
	t.Log(msg)
	assert.Contains(t, msg, fmt.Sprintf("listen tcp 127.0.0.1:%d: bind: address already in use", port))
	assert.Contains(t, msg, "another lab server is probably still running")
	assert.Contains(t, msg, "go run ... &")
	assert.Contains(t, msg, "stop it with kill %1")
	assert.Contains(t, msg, fmt.Sprintf("kill $(lsof -t -iTCP:%d -sTCP:LISTEN)", port))
	assert.Contains(t, msg, fmt.Sprintf("-addr 127.0.0.1:%d", next))
	assert.NotContains(t, msg, "\n")
	assert.NotContains(t, msg, `"`, "slog quotes the error: a quote in it would be escaped")
}
