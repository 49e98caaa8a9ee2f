package labtest

import (
	"context"
	"iter"
	"net/http"
	"os"
	"os/exec"
	"testing"

	"concurrencylab/internal/cluster"
	"concurrencylab/internal/redislab"
	"concurrencylab/internal/scenario"
)

// Replicas serves n fresh servers from newServer, each on a loopback port
// of its own, behind a round-robin load balancer of kind lb (a cluster
// kind: cluster.Embedded, the lab's Proxy in this process, or
// cluster.HAProxy, a haproxy child), and returns the balancer as the
// target, with each server's own URL in Replicas. In one process, each
// replica still has its own state, as a separate process would: its own
// store from its own factory call. Where lb is HAProxy and haproxy is not
// installed, the test is skipped, saying how to install it; in CI
// (CI=true) that is a failure instead.
func Replicas(t testing.TB, n int, lb string, newServer Factory) *scenario.Target {
	if lb == cluster.HAProxy {
		NeedHAProxy(t)
	}
	var urls []string
	var shutdowns []func()
	for range n {
		srv := newServer(t)
		urls = append(urls, Loopback(t, srv, false).URL)
		if srv.Shutdown != nil {
			shutdowns = append(shutdowns, srv.Shutdown)
		}
	}
	var shutdown func()
	if len(shutdowns) > 0 {
		shutdown = func() {
			for _, s := range shutdowns {
				s()
			}
		}
	}
	if lb == cluster.Embedded {
		proxy, err := cluster.NewProxy(urls)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(proxy.CloseIdleConnections)
		tg := Loopback(t, Server{Handler: proxy, Shutdown: shutdown}, false)
		tg.Replicas = urls
		return tg
	}
	b, err := cluster.StartBalancer(context.Background(), lb, "", urls, false)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: maxConns}, Timeout: clientTimeout}
	// Before the replicas' own cleanups (t.Cleanup's are last in, first
	// out): the test is over, and nothing waits for an answer.
	t.Cleanup(func() {
		client.CloseIdleConnections()
		b.Close()
	})
	tg := &scenario.Target{URL: b.URL, Client: client, Shutdown: shutdown, Replicas: urls}
	tg.Load = newLoad(tg)
	return tg
}

// Kinds yields every Redis kind with every load balancer kind, for the
// tests of replicas that run on each pair.
func Kinds(redisKinds, lbKinds []string) iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, kind := range redisKinds {
			for _, lb := range lbKinds {
				if !yield(kind, lb) {
					return
				}
			}
		}
	}
}

// Behind is a test's name's words for its load balancer: "" for the
// embedded one, as the names were before there was a choice, and
// " behind haproxy".
func Behind(lb string) string {
	if lb == cluster.Embedded {
		return ""
	}
	return " behind " + lb
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

// NeedHAProxy is NeedCommand for haproxy, which Debian puts in /usr/sbin,
// off many a user's PATH: where cluster.HAProxyPath finds it.
func NeedHAProxy(t testing.TB) {
	t.Helper()
	if _, err := cluster.HAProxyPath(); err != nil {
		NeedCommand(t, "haproxy", "apt-get install haproxy")
	}
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
