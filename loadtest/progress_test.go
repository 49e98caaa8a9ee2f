//go:build lab && unix

package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"concurrencylab/internal/labtest"
)

func TestFitLine(t *testing.T) {
	assert.Equal(t, "short", fitLine("short", 39))
	assert.Equal(t, "exactly", fitLine("exactly", 7))
	assert.Equal(t, "[1/3] c…", fitLine("[1/3] counter mutex", 8))
	assert.Equal(t, "×3 ×3 …", fitLine("×3 ×3 ×3 ×3", 7), "runes, not bytes")
	assert.Equal(t, strings.Repeat("x", 300), fitLine(strings.Repeat("x", 300), 0), "no width known: no limit")
}

// ttyCols is the width of the terminal the harness runs in below: a
// narrow one, where every line of a run would wrap.
const ttyCols = 40

// ttyRunWait bounds the harness's run in a terminal: two servers to build
// with -race (a cold cache on 2 cores takes most of it) and three small
// rows.
const ttyRunWait = 3 * time.Minute

// TestProgressInANarrowTerminal runs a small harness run as a learner
// would, in a terminal 40 columns wide (a pseudo-terminal for its stderr,
// and another for its stdout), and reads everything it wrote there. The
// progress line must never be wider than the terminal, since a line that
// wraps leaves its first part behind at every show; it must be rewritten
// by erasing (\x1b[K), not by padding; and it must be erased before the
// table comes, whose evidence is cut to the width, with the line that says
// so.
func TestProgressInANarrowTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs two servers: not in -short")
	}
	ctx, cancel := context.WithTimeout(t.Context(), ttyRunWait)
	defer cancel()
	stderr, stdout := openTerminal(t, ttyCols), openTerminal(t, ttyCols)

	cmd := labtest.MainCommand()
	c := exec.CommandContext(ctx, cmd[0], append(cmd[1:],
		"-subject", "counter", "-strategy", "mutex", "-replicas=false", "-n", "200", "-c", "4", "-repeat", "1")...)
	c.Env = labtest.MainEnv()
	c.Stdout, c.Stderr = stdout.child, stderr.child
	require.NoError(t, c.Start())
	stdout.started()
	stderr.started()
	err := c.Wait()
	require.NoError(t, ctx.Err(), "the harness did not end within %v", ttyRunWait)
	progress, table := stderr.all(t), stdout.all(t)
	require.NoError(t, err, "stderr: %q\nstdout: %s", progress, table)

	assert.Contains(t, progress, "\x1b[K", "the line is erased, not padded")
	assert.NotContains(t, progress, "  \r", "no padding before a carriage return")
	var shown []string
	for _, seg := range progressSegments.Split(progress, -1) {
		if seg == "" {
			continue
		}
		shown = append(shown, seg)
		assert.LessOrEqual(t, utf8.RuneCountInString(seg), ttyCols, "wider than the terminal: %q", seg)
	}
	assert.Contains(t, shown, "building 2 servers with -race…")
	assert.Contains(t, shown, "[2/3] baseline no-op, bursts: under lo…",
		"a line longer than the terminal is cut, a column short of its edge")
	end := strings.LastIndex(progress, "\x1b[K")
	assert.Empty(t, strings.Trim(progress[end+len("\x1b[K"):], "\r\n"),
		"the last progress line is erased before the table: nothing left behind")

	assert.Regexp(t, `counter +mutex +ok +✓`, table)
	assert.Contains(t, table, "evidence cut to the terminal's 40 columns: -json or -report FILE for all of it")
	for line := range strings.Lines(table) {
		if strings.HasPrefix(line, "counter ") {
			assert.True(t, strings.HasSuffix(strings.TrimRight(line, "\r\n"), "…"), "the evidence is cut: %q", line)
		}
	}
}

// progressSegments splits what a progress line writes into what it shows:
// the text between carriage returns, newlines and erasures.
var progressSegments = regexp.MustCompile("\r|\n|\x1b\\[K")

// A terminal is a pseudo-terminal of a given width: the child writes to its
// end, and the test reads all of it from the other.
type terminal struct {
	child *os.File    // the terminal's side, the child's stdout or stderr
	pty   *os.File    // the test's side
	read  chan []byte // everything read, once the child has closed its side
}

func openTerminal(t *testing.T, cols uint16) *terminal {
	t.Helper()
	ptmx, tty, err := pty.Open()
	require.NoError(t, err)
	require.NoError(t, pty.Setsize(ptmx, &pty.Winsize{Cols: cols, Rows: 24}))
	tm := &terminal{child: tty, pty: ptmx, read: make(chan []byte, 1)}
	t.Cleanup(func() { ptmx.Close(); tty.Close() })
	go func() {
		// It reads until every holder of the terminal's side has closed it
		// (Linux then says EIO), or the test closes its own side.
		var b bytes.Buffer
		io.Copy(&b, ptmx)
		tm.read <- b.Bytes()
	}()
	return tm
}

// started closes this process's copy of the terminal's side, once the
// child has its own: the end of what the child writes is then the end of
// what the test reads.
func (tm *terminal) started() { tm.child.Close() }

// all is everything the child wrote to the terminal, with the terminal's
// \r\n for each \n.
func (tm *terminal) all(t *testing.T) string {
	t.Helper()
	select {
	case b := <-tm.read:
		return string(b)
	case <-time.After(10 * time.Second):
		tm.pty.Close()
		t.Fatal("the terminal was still open 10s after the harness exited")
		return ""
	}
}
