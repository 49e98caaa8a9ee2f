//go:build lab

package doctor

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// neededChecks are the checks whose failure makes the doctor exit 1.
var neededChecks = []string{"Go version", "cgo enabled", "C compiler", "race detector", "hey", "ports", "open files", "CPUs"}

// testDoctor is a doctor as Run makes one, but with the absolute
// path of the go command that runs the test, and a port just found free:
// 8000 may be in use on a machine that runs the lab's servers.
func testDoctor(t *testing.T) doctor {
	t.Helper()
	goCmd, err := exec.LookPath("go") // go test puts its own GOROOT/bin first
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return doctor{goCmd: goCmd, port: port, lookPath: exec.LookPath}
}

// runTestDoctor runs d and returns its exit status and report, a line per
// check by name, and the verdict line.
func runTestDoctor(t *testing.T, d doctor) (int, map[string]string, string) {
	t.Helper()
	var out bytes.Buffer
	code := d.run(t.Context(), &out)
	t.Logf("exit %d:\n%s", code, out.String())
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, lines, len(checks)+1, "a line per check, then the verdict")
	byName := map[string]string{}
	for i, c := range checks {
		_, rest, ok := strings.Cut(lines[i], " ")
		require.True(t, ok, lines[i])
		require.True(t, strings.HasPrefix(rest, c.name+":"), "line %d is %q's: %q", i, c.name, lines[i])
		byName[c.name] = lines[i]
	}
	return code, byName, lines[len(lines)-1]
}

// On this machine, every needed check passes; ab and wrk, hidden from the
// doctor, are marked optional and do not change the exit status.
func TestDoctorReady(t *testing.T) {
	t.Parallel()
	d := testDoctor(t)
	d.lookPath = func(file string) (string, error) {
		if file == "ab" || file == "wrk" {
			return "", exec.ErrNotFound
		}
		return exec.LookPath(file)
	}
	code, lines, last := runTestDoctor(t, d)
	assert.Equal(t, 0, code)
	assert.Equal(t, "ready: every needed check passed", last)
	for _, name := range neededChecks {
		assert.True(t, strings.HasPrefix(lines[name], "✓ "+name+":"), lines[name])
	}
	assert.Contains(t, lines["race detector"], "reported its data race")
	assert.Contains(t, lines["ports"], fmt.Sprintf("127.0.0.1:%d", d.port))
	assert.True(t, strings.HasPrefix(lines["ab"], "– ab:"), lines["ab"])
	assert.Contains(t, lines["ab"], "apt-get install apache2-utils")
	assert.True(t, strings.HasPrefix(lines["wrk"], "– wrk:"), lines["wrk"])
	assert.Contains(t, lines["wrk"], "brew install wrk")
}

// Without cgo, the race detector cannot be built: both lines say so.
func TestDoctorNoCgo(t *testing.T) {
	t.Parallel()
	d := testDoctor(t)
	d.env = append(os.Environ(), "CGO_ENABLED=0")
	code, lines, last := runTestDoctor(t, d)
	assert.Equal(t, 1, code)
	assert.True(t, strings.HasPrefix(lines["cgo enabled"], "✗ cgo enabled: "), lines["cgo enabled"])
	assert.Contains(t, lines["cgo enabled"], "CGO_ENABLED=0")
	assert.Contains(t, lines["cgo enabled"], "export CGO_ENABLED=1")
	assert.True(t, strings.HasPrefix(lines["race detector"], "✗ race detector: "), lines["race detector"])
	assert.Contains(t, lines["race detector"], "-race requires cgo", "the compiler's own words")
	assert.Equal(t, "not ready: 2 needed checks failed (marked ✗)", last)
}

// A port something listens on is reported busy, with the way around it;
// ab and wrk are found as the real lookPath finds them.
func TestDoctorPortBusy(t *testing.T) {
	t.Parallel()
	d := testDoctor(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	d.port = ln.Addr().(*net.TCPAddr).Port
	code, lines, last := runTestDoctor(t, d)
	assert.Equal(t, 1, code)
	assert.True(t, strings.HasPrefix(lines["ports"], "✗ ports: "), lines["ports"])
	assert.Contains(t, lines["ports"], fmt.Sprintf("something is listening on 127.0.0.1:%d", d.port))
	assert.Contains(t, lines["ports"], fmt.Sprintf("-addr 127.0.0.1:%d", d.port+1))
	assert.Equal(t, "not ready: 1 needed check failed (marked ✗)", last)
	for _, tool := range []string{"ab", "wrk"} {
		if _, err := exec.LookPath(tool); err == nil {
			assert.True(t, strings.HasPrefix(lines[tool], "✓ "+tool+":"), lines[tool])
		} else {
			assert.True(t, strings.HasPrefix(lines[tool], "– "+tool+":"), lines[tool])
		}
	}
	if _, err := exec.LookPath("ab"); err == nil {
		assert.Contains(t, lines["ab"], "ApacheBench", "ab -V's version line")
	}
}

// The doctor takes no arguments but -h.
func TestDoctorArgs(t *testing.T) {
	for args, want := range map[string]int{"extra": 2, "-port 1": 2, "-h": 0} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, want, Run(t.Context(), strings.Fields(args), &stdout, &stderr), args)
		assert.Empty(t, stdout.String(), args)
		assert.Contains(t, stderr.String(), "usage: go run ./loadtest/doctor", args)
	}
}

func TestDoctorGoVersion(t *testing.T) {
	for _, tc := range []struct {
		have, want string
		mark       mark
	}{
		{"go1.26.8", "1.26.0", passed},
		{"go1.26.0", "1.26.0", passed},
		{"go1.27rc1", "1.26", passed},
		{"go1.26.8 X:nodwarf5", "1.26.0", passed},
		{"devel go1.27-abcdef", "1.26.0", passed},
		{"go1.25.7", "1.26.0", failed},
		{"go1.26rc2", "1.26.0", failed},
	} {
		f := judgeGoVersion(tc.have, tc.want)
		assert.Equal(t, tc.mark, f.mark, "%s against %s: %s", tc.have, tc.want, f.found)
		if tc.mark == failed {
			assert.Equal(t, "install Go 1.26 or newer from https://go.dev/dl/", f.fix)
		}
	}
	assert.Equal(t, "1.26.0", goDirective([]byte("module concurrencylab\n\ngo 1.26.0\n\nrequire x v1\n")))
}

func TestDoctorOpenFiles(t *testing.T) {
	assert.Equal(t, failed, judgeOpenFiles(1024).mark)
	assert.Contains(t, judgeOpenFiles(1024).fix, "ulimit -n 4096")
	assert.Equal(t, passed, judgeOpenFiles(4096).mark)
	assert.Contains(t, judgeOpenFiles(^uint64(0)).found, "unlimited")
}

// raceTargets is RaceDetectorSupported's list, in the source of the Go
// that runs this test: a newer Go may add to it.
func TestDoctorRaceTargets(t *testing.T) {
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	require.NoError(t, err)
	file := filepath.Join(strings.TrimSpace(string(goroot)), "src", "internal", "platform", "supported.go")
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	require.NoError(t, err)
	var got []string
	for _, decl := range f.Decls {
		if fn, ok := decl.(*ast.FuncDecl); ok && fn.Name.Name == "RaceDetectorSupported" {
			got = supportedTargets(fn.Body)
		}
	}
	require.NotEmpty(t, got, "RaceDetectorSupported in %s", file)
	assert.ElementsMatch(t, got, raceTargets)
}

// supportedTargets reads a switch on goos whose cases compare goarch with
// strings: `case "linux": return goarch == "amd64" || ...`.
func supportedTargets(body *ast.BlockStmt) []string {
	var targets []string
	ast.Inspect(body, func(n ast.Node) bool {
		cc, ok := n.(*ast.CaseClause)
		if !ok {
			return true
		}
		var goarchs []string
		for _, stmt := range cc.Body {
			ast.Inspect(stmt, func(n ast.Node) bool {
				if eq, ok := n.(*ast.BinaryExpr); ok && eq.Op == token.EQL {
					if lit, ok := eq.Y.(*ast.BasicLit); ok {
						goarch, _ := strconv.Unquote(lit.Value)
						goarchs = append(goarchs, goarch)
					}
				}
				return true
			})
		}
		for _, e := range cc.List {
			if lit, ok := e.(*ast.BasicLit); ok {
				goos, _ := strconv.Unquote(lit.Value)
				for _, goarch := range goarchs {
					targets = append(targets, goos+"/"+goarch)
				}
			}
		}
		return false
	})
	return targets
}

func TestDoctorVerdict(t *testing.T) {
	assert.Equal(t, "ready: every needed check passed", verdict(0))
	assert.Equal(t, "not ready: 1 needed check failed (marked ✗)", verdict(1))
	assert.Equal(t, "not ready: 3 needed checks failed (marked ✗)", verdict(3))
}
