//go:build lab

package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"concurrencylab/internal/gobuild"
)

// TestWarm warms a small part of the module as -warm warms all of it: the
// test binary of one package, and the baseline's server. It says what it
// does, and leaves the server built, with -race as the harness runs it.
func TestWarm(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a test binary and a server with -race: not in -short")
	}
	i := slices.IndexFunc(versions, func(v version) bool { return v.subject.Name == "baseline" })
	require.GreaterOrEqual(t, i, 0)
	args := slices.Clone(warmTests)
	args[len(args)-1] = "./4_panic-safety/place"
	var stderr bytes.Buffer
	require.NoError(t, warmUp(t.Context(), args, versions[i:i+1], true, &stderr), stderr.String())

	out := stderr.String()
	assert.Contains(t, out, "go test -race -count=1 -run ^$ ./4_panic-safety/place")
	assert.Contains(t, out, "ok  \tconcurrencylab/4_panic-safety/place", "its test binary was built and linked")
	assert.Contains(t, out, "[no tests to run]", "and ran no test")
	assert.Contains(t, out, "loadtest: built 1 of 1 servers")
	assert.Equal(t, 1, strings.Count(out, "loadtest: -warm: done in"))

	root, err := gobuild.ModuleRoot(t.Context())
	require.NoError(t, err)
	bin, err := gobuild.Build(t.Context(), root, versions[i].pkg, true)
	require.NoError(t, err, "built already, in this process")
	assert.FileExists(t, bin)
	assert.True(t, strings.HasSuffix(bin, "-race"), bin)
}
