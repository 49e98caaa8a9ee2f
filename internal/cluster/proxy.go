// Package cluster runs several replicas of one server behind one address:
// a round-robin reverse proxy in front of them, and the replicas as child
// processes, all on 127.0.0.1. It is what `go run ./loadtest/cluster`, the
// harness's replica rows and the 5_redis tests start.
package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
)

// ReplicaHeader names, in every answer through the proxy, the replica that
// served it: 1, 2, 3...
const ReplicaHeader = "Lab-Replica"

// maxRetryBody is the largest request body the proxy keeps so that it can
// send the request to another replica if the first cannot be reached.
const maxRetryBody = 1 << 20

// A Proxy sends each request to the next replica in turn (round robin), as
// a load balancer does. A replica that refuses the connection (it is down)
// is skipped: the request goes to the next one, which is safe because the
// dead replica never saw it. Any other failure is the client's 502.
// Websocket upgrades pass through.
type Proxy struct {
	replicas []*url.URL
	next     atomic.Uint64 // the count of requests sent: picks the next replica
	rp       *httputil.ReverseProxy
}

// NewProxy returns a proxy in front of the replicas at these base URLs.
func NewProxy(replicas []string) (*Proxy, error) {
	if len(replicas) == 0 {
		return nil, errors.New("a proxy needs at least one replica")
	}
	p := &Proxy{}
	for _, r := range replicas {
		u, err := url.Parse(r)
		if err != nil {
			return nil, fmt.Errorf("replica %q: %w", r, err)
		}
		p.replicas = append(p.replicas, u)
	}
	p.rp = &httputil.ReverseProxy{
		// The replica is picked in RoundTrip, where a refused one can be
		// skipped; Rewrite only keeps the client's own Host and X-Forwarded
		// headers, so a same-origin check on a replica still passes.
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = p.replicas[0].Scheme, p.replicas[0].Host
			r.Out.Host = r.In.Host
			r.SetXForwarded()
		},
		Transport: &roundRobin{proxy: p, base: transport()},
		// FlushInterval is left at 0: an answer is written whole, in as
		// few writes as it takes, and ReverseProxy itself streams one of
		// unknown length at once. Websockets are copied apart.
		BufferPool: buffers{},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "proxy: no replica answered: "+err.Error(), http.StatusBadGateway)
		},
	}
	return p, nil
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := keepBody(r); err != nil {
		http.Error(w, "proxy: reading the body: "+err.Error(), http.StatusBadRequest)
		return
	}
	p.rp.ServeHTTP(w, r)
}

// CloseIdleConnections closes the proxy's idle connections to the replicas.
func (p *Proxy) CloseIdleConnections() {
	p.rp.Transport.(*roundRobin).base.CloseIdleConnections()
}

// maxIdlePerReplica is how many idle connections the proxy keeps to each
// replica: as many as a load's concurrency. net/http's default keeps 2,
// and under 200 clients at a time the proxy would open and close a
// connection for nearly every request, until loopback runs out of ports.
const maxIdlePerReplica = 256

func transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil // the replicas are on loopback: never through an HTTP_PROXY
	t.MaxIdleConns = 0
	t.MaxIdleConnsPerHost = maxIdlePerReplica
	return t
}

// copyBufferSize is the size of the buffers the proxy copies bodies with,
// as ReverseProxy's own.
const copyBufferSize = 32 << 10

// buffers is the proxy's pool of copy buffers: without one, ReverseProxy
// allocates and zeroes 32 KB for every request.
type buffers struct{}

var bufferPool = sync.Pool{New: func() any { return new([copyBufferSize]byte) }}

func (buffers) Get() []byte  { return bufferPool.Get().(*[copyBufferSize]byte)[:] }
func (buffers) Put(b []byte) { bufferPool.Put((*[copyBufferSize]byte)(b)) }

// roundRobin is the proxy's transport: it sends each request to the next
// replica, and on to the one after if a replica refuses the connection.
type roundRobin struct {
	proxy *Proxy
	base  *http.Transport
}

func (t *roundRobin) RoundTrip(req *http.Request) (*http.Response, error) {
	replicas := t.proxy.replicas
	first := int(t.proxy.next.Add(1)-1) % len(replicas)
	var err error
	for i := range replicas {
		n := (first + i) % len(replicas)
		out := req.Clone(req.Context())
		out.URL.Scheme, out.URL.Host = replicas[n].Scheme, replicas[n].Host
		if req.GetBody != nil {
			out.Body, _ = req.GetBody()
		}
		var resp *http.Response
		resp, err = t.base.RoundTrip(out)
		if err == nil {
			resp.Header.Set(ReplicaHeader, strconv.Itoa(n+1))
			return resp, nil
		}
		if !refused(err) {
			return nil, err
		}
	}
	return nil, err
}

// keepBody reads a small request body into memory, so that RoundTrip can
// send it again to another replica (ReverseProxy's clone of the request
// keeps GetBody); a body over maxRetryBody, or of unknown length, is sent
// once.
func keepBody(req *http.Request) error {
	if req.Body == nil || req.Body == http.NoBody || req.GetBody != nil {
		return nil
	}
	if req.ContentLength < 0 || req.ContentLength > maxRetryBody {
		return nil
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return err
	}
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	req.Body, _ = req.GetBody()
	return nil
}

// refused reports whether err is a replica that could not be reached at
// all: nothing was sent, so another replica may take the request.
func refused(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
