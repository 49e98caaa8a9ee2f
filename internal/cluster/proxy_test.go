//go:build lab

package cluster

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// replicas starts n servers that answer with their name, the Host they were
// asked for, and the body they were sent.
func replicas(t *testing.T, n int) ([]*httptest.Server, []string) {
	var servers []*httptest.Server
	var urls []string
	for i := range n {
		name := string(rune('a' + i))
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			io.WriteString(w, name+" "+r.Host+" "+string(body))
		}))
		t.Cleanup(srv.Close)
		servers, urls = append(servers, srv), append(urls, srv.URL)
	}
	return servers, urls
}

// ask POSTs body to url, and returns the answer and the replica that gave it.
func ask(t *testing.T, url, body string) (answer, replica string) {
	t.Helper()
	return send(t, http.DefaultClient, http.MethodPost, url, body)
}

// serveProxy serves a proxy in front of the replicas at urls, until the
// test ends.
func serveProxy(t *testing.T, urls []string) *httptest.Server {
	t.Helper()
	p, err := NewProxy(urls)
	require.NoError(t, err)
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)
	t.Cleanup(p.CloseIdleConnections)
	return front
}

// TestProxyTakesTurns: each request goes to the next replica, with the
// client's own Host and its body, and the answer names the replica.
func TestProxyTakesTurns(t *testing.T) {
	_, urls := replicas(t, 3)
	front := serveProxy(t, urls)

	host := strings.TrimPrefix(front.URL, "http://")
	for i, want := range []string{"a", "b", "c", "a"} {
		answer, replica := ask(t, front.URL, "hello")
		assert.Equal(t, want+" "+host+" hello", answer, "request %d", i+1)
		assert.Equal(t, string(rune('1'+i%3)), replica)
	}
}

// TestProxySkipsADeadReplica: a replica that refuses connections is
// skipped, body and all, and the others answer every request.
func TestProxySkipsADeadReplica(t *testing.T) {
	servers, urls := replicas(t, 3)
	front := serveProxy(t, urls)

	servers[1].Close()
	seen := map[string]int{}
	for range 6 {
		answer, _ := ask(t, front.URL, "body")
		assert.True(t, strings.HasSuffix(answer, " body"), answer)
		seen[answer[:1]]++
	}
	// b's turns go to the replica after it.
	assert.Equal(t, map[string]int{"a": 2, "c": 4}, seen)
}

func TestProxyNeedsAReplica(t *testing.T) {
	_, err := NewProxy(nil)
	assert.Error(t, err)
}

// TestProxyStreams: an answer of unknown length reaches the client piece by
// piece, each as the replica flushes it, not when it ends.
func TestProxyStreams(t *testing.T) {
	next := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first\n")
		http.NewResponseController(w).Flush()
		<-next
		io.WriteString(w, "second\n")
	}))
	t.Cleanup(srv.Close)
	front := serveProxy(t, []string{srv.URL})

	resp, err := http.Get(front.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "1", resp.Header.Get(ReplicaHeader))
	line := make([]byte, len("first\n"))
	_, err = io.ReadFull(resp.Body, line) // before the replica goes on
	require.NoError(t, err)
	assert.Equal(t, "first\n", string(line))
	close(next)
	rest, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "second\n", string(rest))
}

// TestProxyConnectionHeaders: the headers for one connection stay on it, in
// both directions; the others pass.
func TestProxyConnectionHeaders(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Empty(t, r.Header.Get("X-Hop"))
		assert.Empty(t, r.Header.Get("Keep-Alive"))
		assert.Equal(t, "yes", r.Header.Get("X-End"))
		w.Header().Set("Connection", "X-Back")
		w.Header().Set("X-Back", "hop")
		w.Header().Set("X-Answer", "yes")
	}))
	t.Cleanup(srv.Close)
	front := serveProxy(t, []string{srv.URL})

	req, err := http.NewRequest("GET", front.URL, nil)
	require.NoError(t, err)
	req.Header.Set("Connection", "X-Hop")
	req.Header.Set("X-Hop", "hop")
	req.Header.Set("Keep-Alive", "timeout=5")
	req.Header.Set("X-End", "yes")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("X-Back"))
	assert.Equal(t, "yes", resp.Header.Get("X-Answer"))
}

// TestProxyBadGateway: a replica that takes the request and fails, or no
// replica at all, is a 502.
func TestProxyBadGateway(t *testing.T) {
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if assert.NoError(t, err) {
			conn.Close() // no answer at all
		}
	}))
	t.Cleanup(broken.Close)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	for name, url := range map[string]string{"broken": broken.URL, "down": down.URL} {
		p, err := NewProxy([]string{url})
		require.NoError(t, err)
		front := httptest.NewServer(p)
		resp, err := http.Post(front.URL, "text/plain", strings.NewReader("x"))
		require.NoError(t, err, name)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadGateway, resp.StatusCode, name)
		front.Close()
		p.CloseIdleConnections()
	}
}

// TestProxyOutlivesClosedConnections: a replica that closes its idle
// connections (its idle timeout) is still asked: a GET goes again on a new
// connection, a POST goes through the Transport, which saw the close.
func TestProxyOutlivesClosedConnections(t *testing.T) {
	servers, urls := replicas(t, 1)
	front := serveProxy(t, urls)

	get := func() string {
		resp, err := http.Get(front.URL)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
		return string(b)
	}
	get()
	ask(t, front.URL, "x")
	for range 3 {
		servers[0].CloseClientConnections()
		assert.True(t, strings.HasPrefix(get(), "a "))
		answer, _ := ask(t, front.URL, "x")
		assert.True(t, strings.HasSuffix(answer, " x"), answer)
	}
}
