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

// replicas starts n servers that answer with their name and the body they
// were sent.
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

func ask(t *testing.T, url, body string) (answer, replica string) {
	t.Helper()
	resp, err := http.Post(url, "text/plain", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	return string(b), resp.Header.Get(ReplicaHeader)
}

// TestProxyTakesTurns: each request goes to the next replica, with the
// client's own Host and its body, and the answer names the replica.
func TestProxyTakesTurns(t *testing.T) {
	_, urls := replicas(t, 3)
	p, err := NewProxy(urls)
	require.NoError(t, err)
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)
	t.Cleanup(p.CloseIdleConnections)

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
	p, err := NewProxy(urls)
	require.NoError(t, err)
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)
	t.Cleanup(p.CloseIdleConnections)

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
