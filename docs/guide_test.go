//go:build lab

// Package docs is the lab's documentation. Its test keeps the workshop
// guide honest: every command in docs/workshop.md is one the test runs, and
// every output line the guide tells learners to look for is one the test
// checks.
//
//	go test -tags lab ./docs                               # the guide and the steps agree
//	LAB_GUIDE=1 go test -tags lab -v -timeout 30m ./docs   # and run every step, as a learner would
//
// The second runs the servers on 127.0.0.1:8000, as the guide does, so that
// port must be free; it takes some minutes (hey runs for 10 s twice, the
// harness runs twice in full) and is part of CI (.ci/run).
package docs

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// guideFiles are the documents whose commands the steps must cover: the
// workshop guide, and the README's own commands.
var guideFiles = []string{"workshop.md", "../README.md"}

// TestGuideMatchesSteps checks, without running anything, that the guide
// and the steps agree: each command in a ```sh block of the guide is a step
// (so a command added to the guide is a command checked), or one that
// .ci/run runs itself (ranByCI); each step's command is in the guide (so a
// command changed in the guide is noticed); and each line a step checks
// for is in the guide, as the learner will see it.
func TestGuideMatchesSteps(t *testing.T) {
	inGuide := map[string]bool{}
	var text strings.Builder
	for _, file := range guideFiles {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		text.Write(b)
		for _, cmd := range shellCommands(string(b)) {
			inGuide[cmd] = true
		}
	}

	inSteps := map[string]bool{}
	for _, l := range lessons {
		for _, s := range l.steps {
			if s.cmd == "" {
				continue
			}
			inSteps[s.cmd] = true
			if !inGuide[s.cmd] {
				t.Errorf("lesson %q runs %q, which is not a command in the guide", l.name, s.cmd)
			}
			for _, w := range s.want {
				if !strings.Contains(text.String(), w) {
					t.Errorf("lesson %q checks %q for %q, which the guide does not show", l.name, s.cmd, w)
				}
			}
		}
	}
	ci, err := os.ReadFile("../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	for cmd := range inGuide {
		switch {
		case slices.Contains(ranByCI, cmd):
			if !slices.Contains(strings.Split(string(ci), "\n"), cmd) {
				t.Errorf("the guide leaves %q to .ci/run, which does not run it (on a line of its own)", cmd)
			}
		case !inSteps[cmd]:
			t.Errorf("the guide has %q, which no step runs: add it to a lesson in guide_steps_test.go", cmd)
		}
	}
}

// shellCommands returns the commands in the ```sh blocks of a Markdown
// text, one a line, without the comments that follow two spaces and a #.
func shellCommands(markdown string) []string {
	var cmds []string
	in := false
	sc := bufio.NewScanner(strings.NewReader(markdown))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```"):
			in = !in && strings.TrimPrefix(line, "```") == "sh"
		case in:
			cmd := strings.TrimSpace(trailingComment.ReplaceAllString(line, ""))
			if cmd != "" && !strings.HasPrefix(cmd, "#") && !slices.Contains(cmds, cmd) {
				cmds = append(cmds, cmd)
			}
		}
	}
	return cmds
}

// trailingComment is a shell comment after a command: two or more spaces,
// a #, and the rest of the line.
var trailingComment = regexp.MustCompile(`\s{2,}#.*$`)

// TestReadmeVerdictsMatchResults checks that the README's verdict table is
// the one in results.md, which the harness wrote: the same versions, with
// the same verdicts, each declared (✓).
func TestReadmeVerdictsMatchResults(t *testing.T) {
	readme, results := verdictRows(t, "../README.md"), verdictRows(t, "results.md")
	delete(results, "baseline/no-op")
	delete(results, "baseline/no-op, bursts")
	if len(readme) == 0 {
		t.Fatal("no verdict table in the README")
	}
	for version, verdict := range results {
		if readme[version] != verdict {
			t.Errorf("%s: results.md says %q, the README %q", version, verdict, readme[version])
		}
	}
	for version := range readme {
		if _, ok := results[version]; !ok {
			t.Errorf("%s: in the README's verdict table, not in results.md", version)
		}
	}
}

// verdictRows reads the rows of a Markdown verdict table, "| subject |
// [strategy](link) | **verdict** | ✓ | ...", as "subject/strategy" to
// "verdict ✓".
func verdictRows(t *testing.T, file string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, m := range verdictRow.FindAllStringSubmatch(string(b), -1) {
		rows[m[1]+"/"+m[2]] = m[3] + " " + m[4]
	}
	return rows
}

var verdictRow = regexp.MustCompile(`(?m)^\| (\w+) \| \[([^\]]+)\]\([^)]*\) \| \*\*([a-z ]+)\*\* \| (✓|✗) \|`)

// TestLinksResolve checks that every relative link in the lab's Markdown
// points at a file or folder that exists, so that moving a file cannot
// leave a dead link in the guide, the exercises or the README.
func TestLinksResolve(t *testing.T) {
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("exercises/*.md")
	files = append(files, append(more, "../README.md", "../benchmarks/README.md")...)
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range markdownLink.FindAllStringSubmatch(string(b), -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(file), target)); err != nil {
				t.Errorf("%s links to %s, which does not exist", file, m[1])
			}
		}
	}
}

// markdownLink matches a Markdown link's target: [text](target).
var markdownLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)
