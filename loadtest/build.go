package main

import (
	"context"
	"runtime"
	"slices"
	"sync"

	"concurrencylab/internal/gobuild"
)

// buildAll builds every version's server, with -race if race, a few at a
// time, and returns the binaries by package.
func buildAll(ctx context.Context, root string, vs []version, race bool, obs observer) (map[string]string, error) {
	var pkgs []string // each once: the baseline serves two shapes of load
	for _, v := range vs {
		if !slices.Contains(pkgs, v.pkg) {
			pkgs = append(pkgs, v.pkg)
		}
	}
	obs.building(len(pkgs), race)
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
			bin, err := gobuild.Build(ctx, root, pkg, race)
			if err != nil {
				errs[i] = err
				return
			}
			mu.Lock()
			defer mu.Unlock()
			bins[pkg] = bin
			done++
			obs.built(done, len(pkgs))
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
