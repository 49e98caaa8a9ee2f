package scenario

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// A Case is one bad request of a battery, and the status the contract
// answers it with.
type Case struct {
	Method string // GET if empty
	Path   string
	Body   string
	Header http.Header
	Status int
}

func (c Case) String() string {
	method := c.Method
	if method == "" {
		method = "GET"
	}
	s := method + " " + Shorten(c.Path)
	if c.Body != "" {
		s += " " + Shorten(c.Body)
	}
	return s
}

// A Battery is a subject's bad input: requests that the contract answers
// with a 4xx and a one-line message, changing nothing, the server serving
// on. It scores a server case by case, so that a server written in any
// language learns how far it follows the contract, apart from whether it
// is safe under load.
type Battery struct {
	Cases []Case
	// Prepare puts or reads the state that the cases must not change (a
	// server under judgement may have served anything before), and returns
	// the check, run after each case, that the state is as it was and the
	// server still answers.
	Prepare func(ctx context.Context, tg *Target) (unchanged func(context.Context) error, err error)
}

// A Score is how a server answered a battery.
type Score struct {
	Passed, Total int
	Deviations    []string // one for each case that was not answered as the contract says
}

// Full reports whether every case was answered as the contract says.
func (s Score) Full() bool { return s.Passed == s.Total }

// String says it in one line, with the first deviations.
func (s Score) String() string {
	line := fmt.Sprintf("%d of %d bad-input cases answered as the contract says", s.Passed, s.Total)
	const shown = 3
	for i, d := range s.Deviations {
		if i == shown {
			line += fmt.Sprintf("; %d more", len(s.Deviations)-shown)
			break
		}
		if i == 0 {
			line += ": " + d
		} else {
			line += "; " + d
		}
	}
	return line
}

// oneLine is a plain-text answer of one line.
var oneLine = regexp.MustCompile(`^[^\n]+\n$`)

// Run sends every case, in order, and scores the answers: the status the
// contract gives, a one-line message, and the state unchanged after it. A
// case that changed the state is counted against itself alone: Prepare
// runs again before the next. Run returns an error only if Prepare fails.
func (b Battery) Run(ctx context.Context, tg *Target) (Score, error) {
	score := Score{Total: len(b.Cases)}
	unchanged, err := b.Prepare(ctx, tg)
	if err != nil {
		return score, fmt.Errorf("before the bad input: %w", err)
	}
	for _, c := range b.Cases {
		deviation, changed := check(ctx, tg, c, unchanged)
		if deviation == "" {
			score.Passed++
			continue
		}
		score.Deviations = append(score.Deviations, c.String()+": "+deviation)
		if changed {
			if unchanged, err = b.Prepare(ctx, tg); err != nil {
				return score, fmt.Errorf("after %s: %w", c, err)
			}
		}
	}
	return score, nil
}

// check sends one case and says how its answer deviates from the
// contract, or "" if it does not, and whether the state changed.
func check(ctx context.Context, tg *Target, c Case, unchanged func(context.Context) error) (deviation string, changed bool) {
	resp, err := tg.Do(ctx, Request{Method: c.Method, Path: c.Path, Body: c.Body, Header: c.Header, Wait: AnswerWait})
	if err != nil {
		return "no answer: " + err.Error(), false
	}
	var wrong []string
	switch {
	case resp.Status != c.Status:
		wrong = append(wrong, fmt.Sprintf("%d %q, want %d", resp.Status, Shorten(strings.TrimSpace(resp.Body)), c.Status))
	case !oneLine.MatchString(resp.Body):
		wrong = append(wrong, fmt.Sprintf("%d with %q, want a one-line message", resp.Status, Shorten(resp.Body)))
	}
	if err := unchanged(ctx); err != nil {
		wrong, changed = append(wrong, "then "+err.Error()), true
	}
	return strings.Join(wrong, "; "), changed
}

// Require runs the battery, as a scenario does, and fails unless every case
// was answered as the contract says, listing every deviation.
func (b Battery) Require(ctx context.Context, tg *Target) error {
	score, err := b.Run(ctx, tg)
	if err != nil {
		return err
	}
	if !score.Full() {
		return fmt.Errorf("%d of %d bad-input cases answered as the contract says:\n\t%s",
			score.Passed, score.Total, strings.Join(score.Deviations, "\n\t"))
	}
	return nil
}

// Unchanged is a Battery's Prepare for state that a read of the server
// reports whole (a /stats): it reads it, and returns the check that a read
// after each case finds the same. what names the read, for a deviation;
// want, if not nil, is what the first read must find.
func Unchanged[S comparable](what string, read func(ctx context.Context, tg *Target) (S, error), want *S) func(context.Context, *Target) (func(context.Context) error, error) {
	return func(ctx context.Context, tg *Target) (func(context.Context) error, error) {
		before, err := read(ctx, tg)
		if err != nil {
			return nil, err
		}
		if want != nil && before != *want {
			return nil, fmt.Errorf("%s is %+v, want %+v", what, before, *want)
		}
		return func(ctx context.Context) error {
			now, err := read(ctx, tg)
			if err == nil && now != before {
				err = fmt.Errorf("%s is %+v, was %+v", what, now, before)
			}
			return err
		}, nil
	}
}
