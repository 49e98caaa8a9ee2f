// Package gobuild builds the lab's servers with the go command, each once
// per process, for the harness and the cluster command.
package gobuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// ModuleRoot is the lab's root folder, found by the go command from the
// current directory.
func ModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == "/dev/null" {
		return "", fmt.Errorf("run this from inside the lab (no go.mod here)")
	}
	return filepath.Dir(gomod), nil
}

// builds are the servers this process has built, each once: the smoke
// test runs the harness several times, and a -race link takes seconds.
var builds = cache{bins: map[buildKey]*built{}}

// cache builds each server once per process, into a folder of the user's
// cache that outlives the process: go build leaves a binary that is up to
// date as it is, so a later run links nothing it linked before (a -race
// link takes a second or two, and a run builds some twenty servers). Where
// there is no user cache, the folder is a temporary one, which Cleanup
// removes.
type cache struct {
	mu        sync.Mutex // guards dir, temporary and bins
	dir       string
	temporary bool
	bins      map[buildKey]*built
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

// Cleanup forgets the servers this process built, and removes them if
// they were built into a temporary folder.
func Cleanup() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.temporary {
		os.RemoveAll(builds.dir)
	}
	builds.dir, builds.temporary, builds.bins = "", false, map[buildKey]*built{}
}

// folder is where the servers of the module at root are built: a folder
// of the user's cache of its own for each checkout of the lab, or else a
// temporary one.
func folder(root string) (dir string, temporary bool, err error) {
	if cache, err := os.UserCacheDir(); err == nil {
		sum := sha256.Sum256([]byte(root))
		dir = filepath.Join(cache, "concurrencylab", "servers", hex.EncodeToString(sum[:8]))
		if err := os.MkdirAll(dir, 0o755); err == nil {
			return dir, false, nil
		}
	}
	dir, err = os.MkdirTemp("", "loadtest-")
	return dir, true, err
}

// Build returns the binary of pkg (a folder of the module at root, such
// as "2_mutex/counter"), built with -race if race: at once if this process
// built it already, after the build that is under way if there is one, or
// else after building it (see cache).
func Build(ctx context.Context, root, pkg string, race bool) (string, error) {
	return builds.build(ctx, root, pkg, race)
}

func (c *cache) build(ctx context.Context, root, pkg string, race bool) (string, error) {
	c.mu.Lock()
	if c.dir == "" {
		dir, temporary, err := folder(root)
		if err != nil {
			c.mu.Unlock()
			return "", err
		}
		c.dir, c.temporary = dir, temporary
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
