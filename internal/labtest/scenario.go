package labtest

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// A scenario is one named check of a subject's contract, run against a
// fresh server that newHandler (a NewMatchHandler, a NewNotifyHandler)
// builds.
type scenario[N any] struct {
	name string
	run  func(t *testing.T, newHandler N)
}

// runScenarios runs each scenario as a subtest. One that breaks names must
// fail, in a child process, in one of the ways listed for it (see
// ExpectFailure); the others must pass. In exercise mode every scenario must
// pass.
func runScenarios[N any](t *testing.T, scenarios []scenario[N], newHandler N, breaks map[string][]Failure) {
	for name := range breaks {
		known := slices.ContainsFunc(scenarios, func(s scenario[N]) bool { return s.name == name })
		require.True(t, known, "no scenario is called %q", name)
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			run := func(t *testing.T) { s.run(t, newHandler) }
			if want, broken := breaks[s.name]; broken {
				ExpectFailure(t, run, want...)
				return
			}
			run(t)
		})
	}
}
