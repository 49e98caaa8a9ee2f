package labtest

import (
	"net/http"
	"slices"
	"testing"
	"testing/synctest"

	"go.uber.org/goleak"

	"concurrencylab/internal/scenario"
)

// A Server is one version of a subject, started in this process: its
// handler, and the function that begins its graceful shutdown
// (server.Config.OnShutdown), if it has one.
type Server struct {
	Handler  http.Handler
	Shutdown func()
}

// A Factory starts a fresh server of the version under test. It registers
// on t whatever must be stopped when the test ends (an owner goroutine's
// Close), so that no one else needs to know whether there is any.
type Factory func(t testing.TB) Server

// Run runs a subject's scenarios as subtests, each against a fresh server
// from newServer: over loopback HTTP (with TLS and HTTP/2 where a scenario
// needs it), or on a fake clock over in-memory connections. After each
// loopback scenario no goroutine it started may be left running (goleak);
// a bubble checks that itself.
//
// A scenario named in breaks belongs to a version broken on purpose: it
// must fail, in a child process, in one of the ways listed for it (see
// ExpectFailure); the others must pass. In exercise mode every scenario
// must pass.
func Run(t *testing.T, scenarios []scenario.Scenario, newServer Factory, breaks map[string][]scenario.Failure) {
	for name := range breaks {
		known := slices.ContainsFunc(scenarios, func(s scenario.Scenario) bool { return s.Name == name })
		if !known {
			t.Fatalf("no scenario is called %q", name)
		}
	}
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			run := func(t *testing.T) { runScenario(t, sc, newServer) }
			if want, broken := breaks[sc.Name]; broken {
				ExpectFailure(t, run, want...)
				return
			}
			run(t)
		})
	}
}

// runScenario runs one scenario against a fresh server.
func runScenario(t *testing.T, sc scenario.Scenario, newServer Factory) {
	if sc.Needs&scenario.FakeClock != 0 {
		synctest.Test(t, func(t *testing.T) {
			srv := newServer(t)
			check(t, sc, InBubble(t, srv))
		})
		return
	}
	verifyNoLeaks(t)
	srv := newServer(t)
	check(t, sc, Loopback(t, srv, sc.Needs&scenario.HTTP2 != 0))
}

func check(t *testing.T, sc scenario.Scenario, tg *scenario.Target) {
	t.Helper()
	if sc.Needs&scenario.Shutdown != 0 && tg.Shutdown == nil {
		t.Skip("this version has no Shutdown: it is stopped when its process exits")
	}
	if err := sc.Run(t.Context(), tg); err != nil {
		t.Fatal(err)
	}
}

// verifyNoLeaks fails t if goroutines started during it are still running
// once everything it registered for cleanup has been stopped.
func verifyNoLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// RunAgainst runs a subject's scenarios against servers that newTarget
// starts, as the scenario's needs say (HTTP2: TLS): a child process,
// several servers behind one address, or a server whose state is in Redis.
// A scenario that needs a fake clock is skipped, and says so: its server
// must be in this process with nothing outside it on the network. One that
// needs Shutdown is skipped where the target has none (another process).
// No goroutine check applies: a package's TestMain can run goleak.
func RunAgainst(t *testing.T, scenarios []scenario.Scenario, newTarget func(t *testing.T, needs scenario.Needs) *scenario.Target) {
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			if sc.Needs&scenario.FakeClock != 0 {
				t.Skip("needs a fake clock: the server in this process, and nothing it talks to on the network")
			}
			tg := newTarget(t, sc.Needs)
			if tg.Load == nil {
				tg.Load = newLoad(tg)
			}
			check(t, sc, tg)
		})
	}
}
