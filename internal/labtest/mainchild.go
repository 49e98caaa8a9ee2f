package labtest

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"concurrencylab/internal/childproc"
)

// childMainEnv, set in a test binary's environment, makes MainIfChild run
// the command's main instead of the tests.
const childMainEnv = "LAB_CHILD_MAIN"

// MainIfChild, called first in a package main's TestMain, turns the test
// binary into the command itself when MainCommand started it: main runs
// with the command line given after "--", and the process exits 0 when main
// returns (or as main makes it exit). In a normal test run it returns at
// once.
func MainIfChild(main func()) {
	if os.Getenv(childMainEnv) == "" {
		return
	}
	dash := slices.Index(os.Args, "--")
	os.Args = append([]string{os.Args[0]}, os.Args[dash+1:]...)
	main()
	os.Exit(0)
}

// MainCommand is the command line that runs this test binary as its
// package's command (see MainIfChild), before the command's own flags; it
// needs childMainEnv=1 in the environment, which MainEnv gives.
func MainCommand() []string { return []string{os.Args[0], "-test.run=^$", "--"} }

// MainEnv is the environment for MainCommand.
func MainEnv() []string {
	return append(os.Environ(), childMainEnv+"=1", "GORACE=atexit_sleep_ms=0")
}

// runMainWait bounds a command that MainCommand runs to its end.
const runMainWait = 30 * time.Second

// RunMain runs the package's command with args to its end, as a child
// process, and returns its exit code and everything it wrote.
func RunMain(t testing.TB, args ...string) (code int, output string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), runMainWait)
	defer cancel()
	cmd := MainCommand()
	c := exec.CommandContext(ctx, cmd[0], append(cmd[1:], args...)...)
	c.Env = MainEnv()
	out, err := c.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("the command did not exit within %v: %s", runMainWait, out)
	}
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatal(err)
	}
	return c.ProcessState.ExitCode(), string(out)
}

// StartMain starts the package's command with args as a server in a child
// process and waits until it listens. Cleanup kills it if it is still
// running.
func StartMain(t testing.TB, args ...string) *Child {
	t.Helper()
	cmd := MainCommand()
	c := exec.Command(cmd[0], append(cmd[1:], args...)...)
	c.Env = MainEnv()
	p, err := childproc.Start(t.Context(), c, childproc.Ready{Wait: childStartWait})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return &Child{URL: p.URL, p: p}
}
