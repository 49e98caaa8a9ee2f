package labtest

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"concurrencylab/internal/counterapi"
)

// The concurrent load of CounterSuite: counterWorkers clients send
// counterIncrements increments in all, at once, over keep-alive connections.
// Without -race it is the seed's own load (ab -n 20000 -c 200), enough for the
// runtime's map check to kill the naive store every time. The race detector
// needs only two requests that overlap, and it slows every request several
// times over, so under -race the load is a tenth of that.
var counterWorkers, counterIncrements = counterLoad()

func counterLoad() (workers, increments int) {
	if RaceEnabled {
		return 50, 2000
	}
	return 200, 20000
}

// lostUpdatesMarker starts the error CounterSuite reports when the final
// count is short, so that ExpectFailure can recognize it as LostUpdates.
const lostUpdatesMarker = "lost updates"

// CounterSuite runs the counter contract (see counterapi.NewHandler) against
// h, served over real loopback HTTP: exact counts under concurrent
// increments, set/get round trips, and bad input answered with a one-line
// 4xx that changes nothing and leaves the server serving.
func CounterSuite(t *testing.T, h http.Handler) {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := newCounterClient(t, srv.URL)

	t.Run("ConcurrentIncrementsAreExact", func(t *testing.T) { concurrentIncrements(t, c) })
	t.Run("InitialCounters", func(t *testing.T) {
		c.expect(t, "GET", "/get?name=i", http.StatusOK, "i: 0")
		c.expect(t, "GET", "/get?name=j", http.StatusOK, "j: 0")
	})
	t.Run("SetGetRoundTrip", func(t *testing.T) { setGetRoundTrip(t, c) })
	t.Run("BadInputChangesNothing", func(t *testing.T) { badInput(t, c) })
}

func concurrentIncrements(t *testing.T, c *counterClient) {
	c.expect(t, "POST", "/set?name=hits&val=0", http.StatusOK, "ok")

	var failed atomic.Int64
	var firstErr sync.Once
	var wg sync.WaitGroup
	for range counterWorkers {
		wg.Go(func() {
			for range counterIncrements / counterWorkers {
				status, body, err := c.do("GET", "/inc?name=hits")
				if err != nil || status != http.StatusOK {
					failed.Add(1)
					firstErr.Do(func() { t.Errorf("GET /inc?name=hits: status %d, body %q, err %v", status, body, err) })
				}
			}
		})
	}
	wg.Wait()
	require.Zero(t, failed.Load(), "increments that failed")

	want := fmt.Sprintf("hits: %d", counterIncrements)
	if _, got := c.get(t, "/get?name=hits"); got != want {
		t.Errorf("%s: %d workers sent %d increments, and the store says %q", lostUpdatesMarker, counterWorkers, counterIncrements, got)
	}
}

func setGetRoundTrip(t *testing.T, c *counterClient) {
	longest := strings.Repeat("n", counterapi.MaxNameLen)
	for _, tc := range []struct{ name, val string }{
		{"x", "42"},
		{"x", "-7"}, // overwrite
		{"max", strconv.FormatInt(math.MaxInt64, 10)},
		{"min", strconv.FormatInt(math.MinInt64, 10)},
		{"spaces and ünïcode", "1"},
		{longest, "128"},
	} {
		for _, method := range []string{"GET", "POST"} {
			c.expect(t, method, "/set?"+query(tc.name, tc.val), http.StatusOK, "ok")
			c.expect(t, "GET", "/get?"+query(tc.name, ""), http.StatusOK, tc.name+": "+tc.val)
		}
	}

	c.expect(t, "POST", "/set?name=y&val=0", http.StatusOK, "ok")
	c.expect(t, "POST", "/inc?name=y", http.StatusOK, "ok")
	c.expect(t, "GET", "/inc?name=y", http.StatusOK, "ok")
	c.expect(t, "GET", "/get?name=y", http.StatusOK, "y: 2")
	c.expect(t, "GET", "/get?name=nobody", http.StatusNotFound, "nobody not found")
}

func badInput(t *testing.T, c *counterClient) {
	c.expect(t, "GET", "/set?name=s&val=7", http.StatusOK, "ok")
	c.expect(t, "GET", "/set?name=max&val="+strconv.FormatInt(math.MaxInt64, 10), http.StatusOK, "ok")
	tooLong := strings.Repeat("n", counterapi.MaxNameLen+1)

	for _, tc := range []struct {
		method, target string
		status         int
	}{
		{"GET", "/get", http.StatusBadRequest},
		{"GET", "/get?name=", http.StatusBadRequest},
		{"GET", "/set?val=1", http.StatusBadRequest},
		{"GET", "/set?name=&val=1", http.StatusBadRequest},
		{"GET", "/set?name=s", http.StatusBadRequest},
		{"GET", "/set?name=s&val=", http.StatusBadRequest},
		{"GET", "/set?name=s&val=abc", http.StatusBadRequest},
		{"GET", "/set?name=s&val=1.5", http.StatusBadRequest},
		{"GET", "/set?name=s&val=0x10", http.StatusBadRequest},
		{"GET", "/set?name=s&val=9223372036854775808", http.StatusBadRequest},     // MaxInt64 + 1
		{"GET", "/set?name=s&val=-9223372036854775809", http.StatusBadRequest},    // MinInt64 - 1
		{"GET", "/set?name=s&val=99999999999999999999999", http.StatusBadRequest}, // far out of range
		{"GET", "/set?" + query(tooLong, "1"), http.StatusBadRequest},
		{"GET", "/get?" + query(tooLong, ""), http.StatusBadRequest},
		{"GET", "/inc?" + query(tooLong, ""), http.StatusBadRequest},
		{"GET", "/inc", http.StatusBadRequest},
		{"GET", "/inc?name=nobody", http.StatusNotFound},
		{"GET", "/inc?name=max", http.StatusConflict},
		{"DELETE", "/set?name=s&val=1", http.StatusMethodNotAllowed},
		{"PUT", "/inc?name=s", http.StatusMethodNotAllowed},
		{"POST", "/get?name=s", http.StatusMethodNotAllowed},
		{"GET", "/", http.StatusNotFound},
		{"GET", "/delete?name=s", http.StatusNotFound},
	} {
		t.Run(tc.method+" "+shorten(tc.target), func(t *testing.T) {
			status, body, err := c.do(tc.method, tc.target)
			require.NoError(t, err)
			assert.Equal(t, tc.status, status, "status; body %q", body)
			assert.Regexp(t, `^[^\n]+\n$`, body, "a one-line message")

			// Nothing changed, and the server still answers.
			c.expect(t, "GET", "/get?name=s", http.StatusOK, "s: 7")
			c.expect(t, "GET", "/get?name=max", http.StatusOK, "max: "+strconv.FormatInt(math.MaxInt64, 10))
			c.expect(t, "GET", "/get?name=nobody", http.StatusNotFound, "nobody not found")
		})
	}
}

// counterClient talks to one counter server over keep-alive connections.
type counterClient struct {
	base string
	http *http.Client
}

func newCounterClient(t *testing.T, base string) *counterClient {
	tr := &http.Transport{MaxIdleConnsPerHost: counterWorkers}
	t.Cleanup(tr.CloseIdleConnections)
	return &counterClient{base: base, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// do sends one request and returns the status and the whole body.
func (c *counterClient) do(method, target string) (int, string, error) {
	resp, body, err := fetch(context.Background(), c.http, method, c.base+target)
	if err != nil {
		return 0, "", err
	}
	return resp.StatusCode, body, nil
}

// get returns the status and the body's one line, trimmed.
func (c *counterClient) get(t *testing.T, target string) (int, string) {
	t.Helper()
	status, body, err := c.do("GET", target)
	require.NoError(t, err)
	return status, strings.TrimSuffix(body, "\n")
}

// expect asserts the status and the one-line body of a request.
func (c *counterClient) expect(t *testing.T, method, target string, status int, line string) {
	t.Helper()
	gotStatus, body, err := c.do(method, target)
	require.NoError(t, err)
	assert.Equal(t, status, gotStatus, "%s %s: status", method, shorten(target))
	assert.Equal(t, line+"\n", body, "%s %s: body", method, shorten(target))
}

// query encodes name and, if not empty, val as a query string.
func query(name, val string) string {
	q := "name=" + url.QueryEscape(name)
	if val != "" {
		q += "&val=" + url.QueryEscape(val)
	}
	return q
}

func shorten(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}
