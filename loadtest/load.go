package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"
)

// A loadSpec is one burst of load against a server: N requests (rounded
// down to a multiple of C), C at a time.
type loadSpec struct {
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

// The two shapes of load. A version's throughput is compared with the
// baseline's under the same shape.
type shape string

const (
	// steady: -n requests, -c at a time, each of the -c clients sending
	// its next request as soon as it has an answer (hey's and ab's way).
	steady shape = "steady"
	// bursts: clients that come all at once and ask once each, -c of them
	// a burst. A matchmaker needs it: under a steady load, the last of the
	// -c clients still asking can be left with no one to pair with.
	bursts shape = "bursts"
)

// spec is the load of the given shape on path, and how many times to
// send it: -repeat times for steady load, and as many bursts as make the
// same number of requests.
func (o options) spec(sh shape, path string) (loadSpec, int) {
	if sh == steady {
		return loadSpec{Path: path, N: o.n, C: o.c}, o.repeat
	}
	size := o.c + o.c%2 // every client has a peer
	return loadSpec{Path: path, N: size, C: size, NewConns: true}, o.repeat * max(1, o.n/size)
}

func (s loadSpec) method() string {
	if s.Method == "" {
		return "GET"
	}
	return s.Method
}

// requests is how many requests the spec makes: N rounded down to a
// multiple of C, as hey does (each of the C workers makes N/C).
func (s loadSpec) requests() int { return s.N / s.C * s.C }

// A sample is what one burst of load measured.
type sample struct {
	Answered int            // requests that got an HTTP answer
	Codes    map[int]int    // answers by status code
	Errors   map[string]int // requests that got no answer, by error
	Total    time.Duration  // wall time of the burst
	P50, P99 time.Duration  // latency of the answered requests
}

// rps is the answers per second.
func (s sample) rps() float64 {
	if s.Total <= 0 {
		return 0
	}
	return float64(s.Answered) / s.Total.Seconds()
}

// okCount is how many answers were 2xx.
func (s sample) okCount() int {
	n := 0
	for code, count := range s.Codes {
		if code >= 200 && code < 300 {
			n += count
		}
	}
	return n
}

// failed is how many requests got no answer.
func (s sample) failed() int {
	n := 0
	for _, count := range s.Errors {
		n += count
	}
	return n
}

// firstError is the most frequent error, for evidence.
func (s sample) firstError() string {
	errs := slices.Sorted(maps.Keys(s.Errors))
	sort.SliceStable(errs, func(i, j int) bool { return s.Errors[errs[i]] > s.Errors[errs[j]] })
	if len(errs) == 0 {
		return ""
	}
	return errs[0]
}

// codesSummary is "200×1998 503×2".
func (s sample) codesSummary() string {
	out := ""
	for _, code := range slices.Sorted(maps.Keys(s.Codes)) {
		if out != "" {
			out += " "
		}
		out += fmt.Sprintf("%d×%d", code, s.Codes[code])
	}
	return out
}

// A loader drives load against a server at base (http://127.0.0.1:port).
type loader interface {
	name() string
	// run makes spec's requests and measures them. It stops by itself:
	// a burst that has not finished within maxLoad is cut short.
	run(ctx context.Context, base string, spec loadSpec) (sample, error)
	// countsExactly reports whether every request the server handled is
	// counted in the sample. A loader that runs for a set time (wrk) stops
	// with up to C requests in flight, which the server may have handled.
	countsExactly() bool
}

// Bounds on one burst of load.
const (
	// requestTimeout is how long a request may wait for its answer. A
	// matchmaker client waits for a peer, which comes within milliseconds
	// under load.
	requestTimeout = 5 * time.Second
	// maxLoad cuts a burst short: the default loads take a second or two.
	maxLoad = 30 * time.Second
)

// loaders are the load generators by their -load name.
var loaders = map[string]func(options) (loader, error){
	"hey": func(options) (loader, error) { return heyLoader{}, nil },
	"ab":  newABLoader,
	"wrk": newWrkLoader,
}
