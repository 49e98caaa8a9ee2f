package main

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"concurrencylab/internal/gobuild"
)

// warmTests compiles and links every test binary of the module with -race,
// and runs none of their tests: what `go test -race ./...` compiles is then
// in the build cache.
var warmTests = []string{"test", "-race", "-count=1", "-run", "^$", "./..."}

// warm is -warm, for the instructor before the room arrives: on a cold
// build cache on 2 cores, `go test -race ./...` compiles for some minutes
// and the harness builds its servers for some more. It compiles what both
// need, saying what it does, and runs nothing: the go command caches the
// test binaries' packages, and gobuild keeps the servers the harness runs
// (those of -subject, -strategy and -race, every one by default) where the
// next run finds them.
func warm(ctx context.Context, o options, stderr io.Writer) int {
	vs, err := selected(o)
	if err == nil {
		err = warmUp(ctx, warmTests, vs, o.race, stderr)
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadtest: -warm:", err)
		return 1
	}
	return 0
}

// warmUp runs the go command with testArgs from the module's root, and
// then builds the servers of vs.
func warmUp(ctx context.Context, testArgs []string, vs []version, race bool, stderr io.Writer) error {
	root, err := gobuild.ModuleRoot(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	fmt.Fprintf(stderr, "loadtest: -warm: go %s (compiles every test binary, runs no test)…\n", strings.Join(testArgs, " "))
	cmd := exec.CommandContext(ctx, "go", testArgs...)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = stderr, stderr // a line per package as it is done: no silent minutes
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w", strings.Join(testArgs, " "), err)
	}
	fmt.Fprintf(stderr, "loadtest: -warm: test binaries compiled in %v\n", time.Since(start).Round(100*time.Millisecond))
	if _, err := buildAll(ctx, root, vs, race, &plainLog{w: stderr}); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "loadtest: -warm: done in %v: `go test -race ./...` and `go run ./loadtest` find it all compiled\n", time.Since(start).Round(100*time.Millisecond))
	return nil
}
