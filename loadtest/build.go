package main

import (
	"bytes"
	"context"
	"fmt"
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

// buildAll builds every version's server into dir, with -race if race,
// a few at a time, and returns the binaries by package.
func buildAll(ctx context.Context, root, dir string, vs []version, race bool, progress *progress) (map[string]string, error) {
	var pkgs []string // each once: the baseline serves two shapes of load
	for _, v := range vs {
		if !slices.Contains(pkgs, v.pkg) {
			pkgs = append(pkgs, v.pkg)
		}
	}
	bins := map[string]string{}
	errs := make([]error, len(pkgs))
	var mu sync.Mutex // guards bins
	sem := make(chan struct{}, runtime.NumCPU())
	var wg sync.WaitGroup
	var built int
	for i, pkg := range pkgs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			bin := filepath.Join(dir, strings.ReplaceAll(pkg, "/", "_"))
			args := []string{"build", "-o", bin}
			if race {
				args = append(args, "-race")
			}
			cmd := exec.CommandContext(ctx, "go", append(args, "./"+pkg)...)
			cmd.Dir = root
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				errs[i] = fmt.Errorf("go %s ./%s: %v\n%s", strings.Join(args, " "), pkg, err, stderr.String())
				return
			}
			mu.Lock()
			defer mu.Unlock()
			bins[pkg] = bin
			built++
			progress.show("built %d of %d servers", built, len(pkgs))
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
