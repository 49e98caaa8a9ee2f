//go:build lab

package childproc

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"concurrencylab/internal/server"
)

// childEnv makes the test binary a lab server (see TestMain), or a process
// that exits before it listens.
const childEnv = "CHILDPROC_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "serve":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			os.Exit(1)
		}
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello") })
		if err := server.Serve(ctx, ln, server.Config{}, h); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	case "die":
		fmt.Println("no config file")
		os.Exit(3)
	}
	os.Exit(m.Run())
}

func child(mode string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode)
	return cmd
}

// A lab server: Start takes its URL from its listening line, and Stop is
// Ctrl-C, after which it shuts down cleanly.
func TestStartAndStopALabServer(t *testing.T) {
	p, err := Start(t.Context(), child("serve"), Ready{Wait: 30 * time.Second})
	require.NoError(t, err)
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, p.URL)
	resp, err := http.Get(p.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.True(t, p.Running())

	assert.True(t, p.Stop(30*time.Second), "stopped by itself on SIGINT")
	assert.Equal(t, 0, p.ExitCode())
	assert.Contains(t, p.Output(), "INFO stopped")
}

// A server the lab did not build says nothing of where it listens: Start
// polls the URL it was given.
func TestStartAServerByItsURL(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	// The process is a sleep; what answers at url is a server of the test's
	// own, which comes up while Start polls.
	srv := &http.Server{Handler: http.NotFoundHandler()}
	served := make(chan error, 1)
	go func() {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			served <- err
			return
		}
		served <- srv.Serve(l)
	}()
	defer func() { srv.Close(); <-served }()
	p, err := Start(t.Context(), exec.Command("sleep", "30"), Ready{URL: url, Wait: 10 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, url, p.URL)
	p.Kill()
	assert.Equal(t, -1, p.ExitCode(), "killed by a signal")
}

// One that exits first is an error that says how, with what it wrote.
func TestStartAServerThatDies(t *testing.T) {
	_, err := Start(t.Context(), child("die"), Ready{Wait: 30 * time.Second})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exited before it listened (exit status 3): no config file")
}

func TestOutputFindsTheListeningLine(t *testing.T) {
	o := NewOutput()
	fmt.Fprint(o, "2026/12/01 10:00:00 INFO TLS with HTTP/2\n2026/12/01 10:00:00 INFO listen")
	assert.Empty(t, o.URL())
	fmt.Fprint(o, "ing url=http://127.0.0.1:41234\nmore\n")
	assert.Equal(t, "http://127.0.0.1:41234", o.URL())
	select {
	case <-o.listening:
	default:
		t.Fatal("the listening line was seen, but listening is open")
	}
	var zero Output // usable as a buffer too
	fmt.Fprint(&zero, "INFO listening url=http://127.0.0.1:1\n")
	assert.Contains(t, zero.String(), "listening")
}
