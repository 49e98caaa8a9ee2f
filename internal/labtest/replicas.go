package labtest

import (
	"os"
	"os/exec"
	"testing"

	"concurrencylab/internal/cluster"
	"concurrencylab/internal/redislab"
	"concurrencylab/internal/scenario"
)

// Replicas serves n fresh servers from newServer, each on a loopback port
// of its own, behind a round-robin cluster.Proxy, and returns the proxy as
// the target, with each server's own URL in Replicas. In one process, each
// replica still has its own state, as a separate process would: its own
// store from its own factory call.
func Replicas(t testing.TB, n int, newServer Factory) *scenario.Target {
	var urls []string
	var shutdowns []func()
	for range n {
		srv := newServer(t)
		urls = append(urls, Loopback(t, srv, false).URL)
		if srv.Shutdown != nil {
			shutdowns = append(shutdowns, srv.Shutdown)
		}
	}
	proxy, err := cluster.NewProxy(urls)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.CloseIdleConnections)
	var shutdown func()
	if len(shutdowns) > 0 {
		shutdown = func() {
			for _, s := range shutdowns {
				s()
			}
		}
	}
	tg := Loopback(t, Server{Handler: proxy, Shutdown: shutdown}, false)
	tg.Replicas = urls
	return tg
}

// Redis starts a fresh Redis of kind for the test and stops it when the
// test ends. Where kind is a real redis-server and none is installed, the
// test is skipped, saying how to install it; in CI (CI=true) that is a
// failure instead.
func Redis(t testing.TB, kind string) *redislab.Server {
	t.Helper()
	if kind == redislab.Real {
		NeedCommand(t, "redis-server", "apt-get install redis-server")
	}
	rs, err := redislab.Start(t.Context(), kind, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rs.Close)
	return rs
}

// NeedCommand skips t, saying how to install it, if the command name is not
// on PATH; in CI (CI=true), where .ci/run installs it, that fails t.
func NeedCommand(t testing.TB, name, install string) {
	t.Helper()
	if _, err := exec.LookPath(name); err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("in CI: %s is not on PATH (.ci/run installs it: %s)", name, install)
	}
	t.Skipf("%s is not on PATH; install it to run this test too: %s", name, install)
}
