package labtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"concurrencylab/internal/matchapi"
)

// matchClient talks to one matchmaker server.
type matchClient struct {
	base string
	http *http.Client
}

// joined is what one client got from GET /.
type joined struct {
	id     string
	status int
	peer   string // 200: the peer's id
	pairID string // 200: the Pair-Id header
	body   string
	err    error
}

// outcome describes what the client got, for a test failure.
func (j joined) outcome() string {
	if j.err != nil {
		return "no answer: " + j.err.Error()
	}
	return fmt.Sprintf("%d %q", j.status, j.body)
}

// join asks for a peer as id (no id if empty) and waits for the answer.
func (c *matchClient) join(ctx context.Context, id string) joined {
	j := joined{id: id}
	target := c.base + "/"
	if id != "" {
		target += "?id=" + url.QueryEscape(id)
	}
	resp, body, err := fetch(ctx, c.http, "GET", target)
	if err != nil {
		j.err = err
		return j
	}
	j.status, j.body = resp.StatusCode, body
	if j.status == http.StatusOK {
		j.peer = strings.TrimSuffix(j.body, "\n")
		j.pairID = resp.Header.Get(matchapi.PairIDHeader)
	}
	return j
}

// joinAsync joins in a new goroutine; the answer comes on the channel.
func (c *matchClient) joinAsync(ctx context.Context, id string) <-chan joined {
	done := make(chan joined, 1)
	go func() { done <- c.join(ctx, id) }()
	return done
}

// do sends one request and returns the status and the whole body.
func (c *matchClient) do(method, target string) (int, string, error) {
	return c.doContext(context.Background(), method, target)
}

func (c *matchClient) doContext(ctx context.Context, method, target string) (int, string, error) {
	resp, body, err := fetch(ctx, c.http, method, c.base+target)
	if err != nil {
		return 0, "", err
	}
	return resp.StatusCode, body, nil
}

// stats returns the server's /stats.
func (c *matchClient) stats(t *testing.T) matchapi.Stats {
	t.Helper()
	s, err := c.getStats(t.Context())
	require.NoError(t, err)
	return s
}

func (c *matchClient) getStats(ctx context.Context) (matchapi.Stats, error) {
	var s matchapi.Stats
	status, body, err := c.doContext(ctx, "GET", "/stats")
	if err != nil {
		return s, err
	}
	if status != http.StatusOK {
		return s, fmt.Errorf("GET /stats: %d %q", status, body)
	}
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		return s, fmt.Errorf("GET /stats: %w in %q", err, body)
	}
	return s, nil
}

// awaitStats polls /stats until cond holds, and fails the test if it does
// not within awaitTimeout. It returns the stats that satisfied cond.
func (c *matchClient) awaitStats(t *testing.T, what string, cond func(matchapi.Stats) bool) matchapi.Stats {
	t.Helper()
	const awaitTimeout, poll = 10 * time.Second, time.Millisecond
	deadline := time.Now().Add(awaitTimeout)
	for {
		s := c.stats(t)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s; /stats is %+v", awaitTimeout, what, s)
		}
		time.Sleep(poll)
	}
}

// checkPairs asserts that every 200 in results names a peer whose own
// answer names it back, with the same pair id; that no client is in two
// pairs and no pair id is used by two pairs; and that no one was paired
// with a client that had left (one that got no 200). Each failure starts
// with wrongPairMarker.
func checkPairs(t *testing.T, results []joined) {
	t.Helper()
	byID := make(map[string]joined, len(results))
	for _, r := range results {
		require.NotContains(t, byID, r.id, "the test gave two clients one id")
		byID[r.id] = r
	}
	wrong := func(format string, args ...any) {
		t.Helper()
		t.Errorf(wrongPairMarker+": "+format, args...)
	}
	members := make(map[string][]string) // pair id -> the clients that got it
	for _, r := range results {
		if r.status != http.StatusOK {
			continue
		}
		members[r.pairID] = append(members[r.pairID], r.id)
		peer, ok := byID[r.peer]
		switch {
		case !ok:
			wrong("%s was told its peer is %q, which is no client of this test", r.id, r.peer)
		case peer.status != http.StatusOK:
			wrong("%s was told its peer is %s, a client that had left: it got %s", r.id, peer.id, peer.outcome())
		case peer.peer != r.id:
			wrong("%s was told its peer is %s, but %s was told %s", r.id, peer.id, peer.id, peer.peer)
		case peer.pairID != r.pairID:
			wrong("%s and %s are a pair with two pair ids, %q and %q", r.id, peer.id, r.pairID, peer.pairID)
		}
	}
	for pairID, ids := range members {
		if pairID == "" || len(ids) != 2 {
			wrong("pair id %q was given to %d clients: %v", pairID, len(ids), ids)
		}
	}
}

// serveLoopback serves h on a 127.0.0.1 port for the rest of the test and
// returns a client for it, over HTTP/1.1, or over HTTP/2 with TLS if h2.
func serveLoopback(t *testing.T, h http.Handler, h2 bool) *matchClient {
	srv := httptest.NewUnstartedServer(h)
	var client *http.Client
	if h2 {
		srv.EnableHTTP2 = true
		srv.StartTLS()
		client = srv.Client()
		client.Transport.(*http.Transport).MaxIdleConnsPerHost = matchConcurrency
	} else {
		srv.Start()
		client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: matchConcurrency}}
	}
	client.Timeout = clientTimeout
	t.Cleanup(srv.Close)
	t.Cleanup(client.CloseIdleConnections)
	return &matchClient{base: srv.URL, http: client}
}

// clientTimeout bounds every request of a scenario on loopback, so that a
// broken version fails the test instead of hanging it.
const clientTimeout = 30 * time.Second

// serveInBubble serves h in the current synctest bubble (see
// serveInMemory) and returns a client for it.
func serveInBubble(t *testing.T, h http.Handler) *matchClient {
	srv := serveInMemory(t, h)
	return &matchClient{base: srv.url, http: srv.client}
}

// assertJoined asserts one client's answer.
func assertJoined(t *testing.T, j joined, status int, peer string) {
	t.Helper()
	if !assert.NoError(t, j.err, "%s", j.id) {
		return
	}
	assert.Equal(t, status, j.status, "%s: status; body %q", j.id, j.body)
	if status == http.StatusOK {
		assert.Equal(t, peer, j.peer, "%s: peer", j.id)
	}
}
