package scenario

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
)

// A Burst is one burst of load against a server: N requests (rounded down
// to a multiple of C), C at a time.
type Burst struct {
	Method      string // GET if empty
	Path        string // with its query, e.g. "/inc?name=i"
	Body        []byte
	ContentType string
	// IDPrefix, if set, gives each request its own id: "&id=<prefix>-<k>"
	// is added to Path (the matchmaker tells its clients apart by id).
	// Loaders that cannot vary a request leave the id out.
	IDPrefix string
	N, C     int
	// NewConns makes every request on a connection of its own, as clients
	// that each come once do; otherwise connections are kept alive.
	NewConns bool
	// QPS, if set, caps the requests per second of the whole burst.
	QPS float64
}

// MethodOrGet is the burst's method, GET if none is set.
func (b Burst) MethodOrGet() string {
	if b.Method == "" {
		return "GET"
	}
	return b.Method
}

// Requests is how many requests the burst makes: N rounded down to a
// multiple of C, as hey does it (each of the C workers makes N/C).
func (b Burst) Requests() int { return b.N / b.C * b.C }

// A Shape is how a run's load comes. A version's throughput is compared
// with the baseline's under the same shape.
type Shape string

const (
	// Steady: N requests, C at a time, each of the C clients sending its
	// next request as soon as it has an answer (hey's and ab's way).
	Steady Shape = "steady"
	// Bursts: clients that come all at once and ask once each, C of them a
	// burst. A matchmaker needs it: under a steady load, the last of the C
	// clients still asking can be left with no one to pair with.
	Bursts Shape = "bursts"
)

// A Load sends bursts at a target.
type Load interface {
	// Spec is the run's burst on path, and how many such bursts make the
	// run's load.
	Spec(path string) (Burst, int)
	// Send sends one burst and measures it. It stops by itself: a burst
	// that runs too long is cut short. An error that a Failure made
	// (ServerDied, HungRequest) says the server died or hung meanwhile.
	Send(ctx context.Context, b Burst) (Sample, error)
	// CountsExactly reports whether every request the server handled is
	// counted in the sample. A loader that stops on a timer (wrk) may stop
	// with up to C requests in flight, which the server may have handled.
	CountsExactly() bool
	// Short reports whether the run leaves out its slow checks (the
	// notifier's stalled subscriber).
	Short() bool
}

// A Sample is what one burst measured.
type Sample struct {
	Answered int            // requests that got an HTTP answer
	Codes    map[int]int    // answers by status code
	Errors   map[string]int // requests that got no answer, by error
	Total    time.Duration  // wall time of the burst
	P50, P99 time.Duration  // latency of the answered requests
}

// RPS is the answers per second.
func (s Sample) RPS() float64 {
	if s.Total <= 0 {
		return 0
	}
	return float64(s.Answered) / s.Total.Seconds()
}

// OKCount is how many answers were 2xx.
func (s Sample) OKCount() int {
	n := 0
	for code, count := range s.Codes {
		if code >= 200 && code < 300 {
			n += count
		}
	}
	return n
}

// Failed is how many requests got no answer.
func (s Sample) Failed() int {
	n := 0
	for _, count := range s.Errors {
		n += count
	}
	return n
}

// FirstError is the most frequent error, for evidence.
func (s Sample) FirstError() string {
	errs := slices.Sorted(maps.Keys(s.Errors))
	sort.SliceStable(errs, func(i, j int) bool { return s.Errors[errs[i]] > s.Errors[errs[j]] })
	if len(errs) == 0 {
		return ""
	}
	return errs[0]
}

// CodesSummary is "200×1998 503×2".
func (s Sample) CodesSummary() string {
	out := ""
	for _, code := range slices.Sorted(maps.Keys(s.Codes)) {
		if out != "" {
			out += " "
		}
		out += fmt.Sprintf("%d×%d", code, s.Codes[code])
	}
	return out
}

// Unanswered is an error for the requests of b that got no answer in s:
// a HungRequest if they timed out, or nil if every one was answered.
func (s Sample) Unanswered(b Burst) error {
	n := s.Failed()
	if n == 0 {
		return nil
	}
	first := s.FirstError()
	what := fmt.Sprintf("%d of %d %s %s got no answer: %s", n, b.Requests(), b.MethodOrGet(), Shorten(b.Path), first)
	if strings.Contains(first, "Timeout") || strings.Contains(first, "timeout") || strings.Contains(first, "deadline") {
		return HungRequest.Errorf("%s", what)
	}
	return errors.New(what)
}

// SendAll sends count bursts of b through tg.Load and returns how many
// requests were answered 2xx. It stops at the first burst that fails
// (Send's error, or requests unanswered).
func SendAll(ctx context.Context, tg *Target, b Burst, count int) (ok int, err error) {
	for range count {
		smp, err := tg.Load.Send(ctx, b)
		if err == nil {
			err = smp.Unanswered(b)
		}
		ok += smp.OKCount()
		if err != nil {
			return ok, err
		}
	}
	return ok, nil
}
