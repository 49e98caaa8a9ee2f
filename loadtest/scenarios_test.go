//go:build lab

package main

import (
	"crypto/tls"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"concurrencylab/internal/childproc"
	"concurrencylab/internal/gobuild"
	"concurrencylab/internal/labtest"
	"concurrencylab/internal/scenario"
)

// TestScenariosAgainstChildProcesses runs each subject's scenarios, the
// suite its versions' tests run in-process, against its mutex version built
// as the harness builds it and started as a child process: the scenarios
// need only a base URL, so what passes in one process passes across two.
func TestScenariosAgainstChildProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs servers: not in -short")
	}
	root, err := gobuild.ModuleRoot(t.Context())
	require.NoError(t, err)
	for _, subject := range subjects {
		t.Run(subject.Name, func(t *testing.T) {
			t.Parallel()
			i := slices.IndexFunc(versions, func(v version) bool { return v.subject.Name == subject.Name && v.strategy == "mutex" })
			require.GreaterOrEqual(t, i, 0, "the registry has a mutex %s", subject.Name)
			v := versions[i]
			bin, err := gobuild.Build(t.Context(), root, v.pkg, true)
			require.NoError(t, err)
			labtest.RunAgainst(t, subject.Scenarios, func(t *testing.T, needs scenario.Needs) *scenario.Target {
				return startChildTarget(t, bin, v.flags(), needs&scenario.HTTP2 != 0)
			})
		})
	}
}

// startChildTarget starts bin on a free port (HTTPS with HTTP/2 if h2) for
// the rest of the test, and returns it as a target.
func startChildTarget(t *testing.T, bin string, args []string, h2 bool) *scenario.Target {
	args = append([]string{"-addr", "127.0.0.1:0"}, args...)
	tr := &http.Transport{MaxIdleConnsPerHost: 200}
	if h2 {
		args = append(args, "-tls")
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // the server's self-signed certificate
		tr.ForceAttemptHTTP2 = true
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	p, err := childproc.Start(t.Context(), cmd, childproc.Ready{Wait: startWait})
	require.NoError(t, err)
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		if !p.Stop(stopWait) {
			t.Errorf("%s did not stop within %v of SIGINT", bin, stopWait)
		}
		if _, race := childproc.RaceIn(p.Output()); race {
			t.Errorf("%s reported a data race:\n%s", bin, p.Output())
		}
	})
	return &scenario.Target{URL: p.URL, Client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, Process: p}
}
