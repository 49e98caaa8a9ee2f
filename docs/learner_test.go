//go:build lab

package docs

import (
	"os/exec"
	"strings"
	"testing"
)

// labOnly are the modules only the lab's own tests need: a browser driver,
// a pty, and (in loadtest/chart, a module of its own) a plotting library.
var labOnly = []string{"github.com/chromedp/", "github.com/creack/pty", "gonum.org/v1/plot"}

// TestLearnersBuildIsLight checks the README's promise for the learner's
// command: go test -race ./... compiles what the lessons need and nothing
// that only the lab's own tests (-tags lab) use, so that a first run on an
// empty cache takes minutes, not many. The lab's build must still have
// them, or this test would prove nothing.
func TestLearnersBuildIsLight(t *testing.T) {
	learner, lab := deps(t), deps(t, "-tags", "lab")
	for _, m := range labOnly {
		if p := firstWithPrefix(learner, m); p != "" {
			t.Errorf("go test ./... compiles %s, which only the lab's own tests need: give the file that imports it //go:build lab", p)
		}
	}
	if firstWithPrefix(lab, labOnly[0]) == "" {
		t.Errorf("go test -tags lab ./... does not compile %s: the browser tests are gone?", labOnly[0])
	}
}

// deps lists every package that go test compiles for the module, tests
// included, with the build flags given.
func deps(t *testing.T, flags ...string) []string {
	t.Helper()
	args := append([]string{"list", "-deps", "-test"}, flags...)
	cmd := exec.CommandContext(t.Context(), "go", append(args, "./...")...)
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s ./...: %v", strings.Join(args, " "), err)
	}
	return strings.Fields(string(out))
}

func firstWithPrefix(pkgs []string, prefix string) string {
	for _, p := range pkgs {
		if strings.HasPrefix(p, prefix) {
			return p
		}
	}
	return ""
}
