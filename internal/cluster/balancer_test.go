//go:build lab

package cluster

import (
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// balancerKinds are the load balancers these tests run: both, haproxy
// skipped where it is not installed (a failure in CI).
var balancerKinds = []string{Embedded, HAProxy}

// needHAProxy skips t where haproxy is not installed, or fails it in CI
// (CI=true), as labtest.NeedCommand does (which imports this package).
func needHAProxy(t *testing.T) {
	t.Helper()
	if _, err := HAProxyPath(); err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("in CI: haproxy is not on PATH (.ci/run installs it: apt-get install haproxy)")
	}
	t.Skip("haproxy is not on PATH; install it to run this test too: apt-get install haproxy")
}

// balancer starts one of kind in front of urls, stopped when the test ends.
func balancer(t *testing.T, kind string, urls []string) *Balancer {
	t.Helper()
	if kind == HAProxy {
		needHAProxy(t)
	}
	b, err := StartBalancer(t.Context(), kind, "", urls, false)
	require.NoError(t, err)
	t.Cleanup(b.Close)
	assert.Equal(t, kind, b.Kind)
	return b
}

// send asks url with method and body, and returns the answer and the
// replica that gave it.
func send(t *testing.T, client *http.Client, method, url, body string) (answer, replica string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	return string(b), resp.Header.Get(ReplicaHeader)
}

// TestBalancerTakesTurns: through either balancer, each request goes to
// the next replica, with the client's own Host and its body, and the answer
// names the replica.
func TestBalancerTakesTurns(t *testing.T) {
	for _, kind := range balancerKinds {
		t.Run(kind, func(t *testing.T) {
			_, urls := replicas(t, 3)
			b := balancer(t, kind, urls)
			client := &http.Client{Transport: &http.Transport{}}
			t.Cleanup(client.CloseIdleConnections)
			host := strings.TrimPrefix(b.URL, "http://")
			for i, want := range []string{"a", "b", "c", "a", "b", "c", "a"} {
				answer, replica := send(t, client, http.MethodPost, b.URL+"/", "hello")
				assert.Equal(t, want+" "+host+" hello", answer, "request %d", i+1)
				assert.Equal(t, string(rune('1'+i%3)), replica, "request %d", i+1)
			}
		})
	}
}

// TestBalancerSkipsADeadReplica: a replica whose port is closed is skipped,
// for a GET and a POST with a body alike, and the others answer every
// request, on connections kept alive across the death.
func TestBalancerSkipsADeadReplica(t *testing.T) {
	for _, kind := range balancerKinds {
		t.Run(kind, func(t *testing.T) {
			servers, urls := replicas(t, 3)
			b := balancer(t, kind, urls)
			client := &http.Client{Transport: &http.Transport{}}
			t.Cleanup(client.CloseIdleConnections)
			for range 3 { // a connection to each, kept alive in the balancer
				send(t, client, http.MethodGet, b.URL+"/", "")
			}
			servers[1].CloseClientConnections()
			servers[1].Close()
			seen := map[string]int{}
			for i := range 12 {
				method, body := http.MethodGet, ""
				if i%2 == 1 {
					method, body = http.MethodPost, "body"
				}
				answer, replica := send(t, client, method, b.URL+"/", body)
				assert.True(t, strings.HasSuffix(answer, " "+body), answer)
				assert.NotEqual(t, "2", replica)
				seen[answer[:1]]++
			}
			assert.Zero(t, seen["b"])
			assert.Equal(t, 12, seen["a"]+seen["c"])
		})
	}
}

// TestBalancerPortInUse: a balancer asked for a port that is taken says
// so, whichever it is.
func TestBalancerPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	_, urls := replicas(t, 1)
	for _, kind := range balancerKinds {
		t.Run(kind, func(t *testing.T) {
			if kind == HAProxy {
				needHAProxy(t)
			}
			_, err := StartBalancer(t.Context(), kind, ln.Addr().String(), urls, false)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "address already in use")
		})
	}
}

// TestHAProxyStopsByItsPid: Close stops the haproxy child, whose port is
// then closed, and says which it was in one line.
func TestHAProxyStopsByItsPid(t *testing.T) {
	needHAProxy(t)
	_, urls := replicas(t, 2)
	b, err := StartBalancer(t.Context(), Auto, "", urls, false)
	require.NoError(t, err)
	assert.Equal(t, HAProxy, b.Kind, "Auto picks haproxy where it is installed")
	assert.Regexp(t, `^load balancer: HAProxy [0-9.]+, a child process$`, b.String())
	b.Close()
	assert.False(t, b.child.proc.Running(), "haproxy still runs")
	assert.Empty(t, b.child.proc.Output(), "haproxy wrote something in a normal run")
	_, err = net.Dial("tcp", strings.TrimPrefix(b.URL, "http://"))
	assert.Error(t, err, "the port still accepts connections")
}

// TestHAProxySaysWhy: a haproxy that does not start is haproxy's own
// alert, without the notices before it.
func TestHAProxySaysWhy(t *testing.T) {
	err := alerts(errorString("haproxy exited before it answered (exit status 1): [NOTICE]   (7) : haproxy version is 2.6.12 | " +
		"[NOTICE]   (7) : path to executable is /usr/sbin/haproxy | [ALERT]    (7) : config : parsing [x.cfg:3] : unknown keyword 'nope'."))
	assert.Equal(t, "haproxy exited before it answered (exit status 1): [ALERT]    (7) : config : parsing [x.cfg:3] : unknown keyword 'nope'.", err)
}

type errorString string

func (e errorString) Error() string { return string(e) }
