package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// moduleRoot is the lab's root folder, found by the go command from the
// current directory.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == "/dev/null" {
		return "", fmt.Errorf("run the harness from inside the lab (no go.mod here)")
	}
	return filepath.Dir(gomod), nil
}

// builds are the servers this process has built, each once: the smoke
// test runs the harness several times, and a -race link takes seconds.
var builds = buildCache{bins: map[buildKey]*built{}}

// buildCache builds each server once, into a folder of its own that
// removeBuilds removes.
type buildCache struct {
	mu   sync.Mutex // guards dir and bins
	dir  string
	bins map[buildKey]*built
}

type buildKey struct {
	pkg  string
	race bool
}

// built is one server's build: done is closed once bin or err is set.
type built struct {
	done chan struct{}
	bin  string
	err  error
}

// removeBuilds removes every server this process built.
func removeBuilds() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
	builds.dir, builds.bins = "", map[buildKey]*built{}
}

// build returns pkg's server, built with -race if race: at once if this
// process built it already, after the build that is under way if there is
// one, or else after building it.
func (c *buildCache) build(ctx context.Context, root, pkg string, race bool) (string, error) {
	c.mu.Lock()
	if c.dir == "" {
		dir, err := os.MkdirTemp("", "loadtest-")
		if err != nil {
			c.mu.Unlock()
			return "", err
		}
		c.dir = dir
	}
	key := buildKey{pkg, race}
	b, started := c.bins[key]
	if !started {
		b = &built{done: make(chan struct{})}
		c.bins[key] = b
	}
	dir := c.dir
	c.mu.Unlock()
	if started {
		<-b.done
		return b.bin, b.err
	}
	defer close(b.done)
	name := strings.ReplaceAll(pkg, "/", "_")
	args := []string{"build", "-o", filepath.Join(dir, name)}
	if race {
		args = append(args, "-race")
		args[2] += "-race"
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "./"+pkg)...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		b.err = fmt.Errorf("go %s ./%s: %v\n%s", strings.Join(args, " "), pkg, err, stderr.String())
		c.mu.Lock()
		delete(c.bins, key) // a later run may try again
		c.mu.Unlock()
		return "", b.err
	}
	b.bin = args[2]
	return b.bin, nil
}

// buildAll builds every version's server, with -race if race, a few at a
// time, and returns the binaries by package.
func buildAll(ctx context.Context, root string, vs []version, race bool, progress *progress) (map[string]string, error) {
	var pkgs []string // each once: the baseline serves two shapes of load
	for _, v := range vs {
		if !slices.Contains(pkgs, v.pkg) {
			pkgs = append(pkgs, v.pkg)
		}
	}
	bins := map[string]string{}
	errs := make([]error, len(pkgs))
	var mu sync.Mutex // guards bins and done
	sem := make(chan struct{}, runtime.NumCPU())
	var wg sync.WaitGroup
	var done int
	for i, pkg := range pkgs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			bin, err := builds.build(ctx, root, pkg, race)
			if err != nil {
				errs[i] = err
				return
			}
			mu.Lock()
			defer mu.Unlock()
			bins[pkg] = bin
			done++
			progress.show("built %d of %d servers", done, len(pkgs))
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return bins, nil
}
