//go:build lab

package scenario

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var lost = Marked("lost updates", "lost updates", LostUpdates)

func TestVerdictAndEvidenceOfAnError(t *testing.T) {
	err := lost.Errorf("i: %d after %d", 5, 6)
	assert.Equal(t, "lost updates: i: 5 after 6", err.Error(), "the marker opens the message, for ExpectFailure")
	assert.True(t, lost.Pattern.MatchString(err.Error()))
	assert.Equal(t, LostUpdates, VerdictOf(err))
	assert.Equal(t, LostUpdates, VerdictOf(fmt.Errorf("burst 2: %w", err)), "wrapped")
	assert.Equal(t, "i: 5 after 6", Explain(err), "the verdict says the marker")
	assert.Equal(t, "burst 2: i: 5 after 6", Explain(fmt.Errorf("burst 2: %w", err)), "the context stays")
	assert.True(t, lost.In(err))
	assert.False(t, HungRequest.In(err))

	assert.Equal(t, OK, VerdictOf(nil))
	assert.Equal(t, Broken, VerdictOf(errors.New("anything else")))
	assert.Equal(t, "anything else", Explain(errors.New("anything else")))
	assert.Panics(t, func() { DataRace.Errorf("no marker") }, "a Failure seen in output cannot be reported")
}

func TestUnanswered(t *testing.T) {
	b := Burst{Path: "/inc?name=i", N: 100, C: 10}
	assert.NoError(t, Sample{Answered: 100}.Unanswered(b))

	err := Sample{Answered: 97, Errors: map[string]int{"context deadline exceeded (Client.Timeout exceeded)": 3}}.Unanswered(b)
	assert.Equal(t, Hung, VerdictOf(err))
	assert.Contains(t, err.Error(), "3 of 100 GET /inc?name=i got no answer")

	err = Sample{Answered: 98, Errors: map[string]int{"connection refused": 2}}.Unanswered(b)
	assert.Equal(t, Broken, VerdictOf(err))
}

// A counter-like server with a value that bad input must not change, and a
// flaw chosen by the test.
func batteryServer(flaw string) http.Handler {
	var val atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/val":
			fmt.Fprintln(w, val.Load())
		case "/bump":
			if flaw == "changes" {
				val.Add(1)
			}
			http.Error(w, "no bumping", http.StatusBadRequest)
		case "/quiet":
			if flaw == "two lines" {
				http.Error(w, "bad\nrequest", http.StatusBadRequest)
				return
			}
			if flaw == "status" {
				fmt.Fprintln(w, "fine")
				return
			}
			http.Error(w, "bad request", http.StatusBadRequest)
		}
	})
}

func batteryFor() Battery {
	return Battery{
		Cases: []Case{{Path: "/bump", Status: 400}, {Path: "/quiet", Status: 400}, {Method: "POST", Path: "/quiet", Body: "{}", Status: 400}},
		Prepare: func(ctx context.Context, tg *Target) (func(context.Context) error, error) {
			before, err := tg.Get(ctx, "/val", time.Second)
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context) error {
				now, err := tg.Get(ctx, "/val", time.Second)
				if err == nil && now.Body != before.Body {
					err = fmt.Errorf("val is %s, was %s", now.Line(), before.Line())
				}
				return err
			}, nil
		},
	}
}

func TestBatteryScoresEachCase(t *testing.T) {
	for _, tc := range []struct {
		flaw       string
		passed     int
		deviations []string
	}{
		{"", 3, nil},
		{"changes", 2, []string{"GET /bump: then val is 1, was 0"}},
		{"two lines", 1, []string{`GET /quiet: 400 with "bad\nrequest\n", want a one-line message`, `POST /quiet {}: 400 with "bad\nrequest\n", want a one-line message`}},
		{"status", 1, []string{`GET /quiet: 200 "fine", want 400`, `POST /quiet {}: 200 "fine", want 400`}},
	} {
		t.Run(tc.flaw, func(t *testing.T) {
			srv := httptest.NewServer(batteryServer(tc.flaw))
			defer srv.Close()
			tg := &Target{URL: srv.URL, Client: srv.Client()}
			score, err := batteryFor().Run(t.Context(), tg)
			require.NoError(t, err)
			assert.Equal(t, Score{Passed: tc.passed, Total: 3, Deviations: tc.deviations}, score)
			assert.Equal(t, tc.flaw == "", score.Full())
			err = batteryFor().Require(t.Context(), tg)
			if tc.flaw == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, fmt.Sprintf("%d of 3 bad-input cases answered as the contract says", tc.passed))
			}
		})
	}
}

func TestScoreString(t *testing.T) {
	s := Score{Passed: 1, Total: 6, Deviations: []string{"a", "b", "c", "d", "e"}}
	assert.Equal(t, "1 of 6 bad-input cases answered as the contract says: a; b; c; 2 more", s.String())
	assert.Equal(t, "6 of 6 bad-input cases answered as the contract says", Score{Passed: 6, Total: 6}.String())
}

// A request with no answer within its Wait is a hang, and says which.
func TestDoBoundsARequest(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	tg := &Target{URL: srv.URL, Client: srv.Client()}
	_, err := tg.Do(t.Context(), Request{Path: "/" + strings.Repeat("x", 50), Wait: 50 * time.Millisecond})
	assert.True(t, HungRequest.In(err), "%v", err)
	assert.Contains(t, err.Error(), "hung: GET /xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx... got no answer within 50ms")
}
