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
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
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
//
// A plain request is forwarded by hand over an http.Transport: the proxy
// is in every request of the harness's replica rows, and
// httputil.ReverseProxy's generality (a clone of every request, of its
// headers and URL, the 1xx and X-Forwarded machinery) was most of its own
// cost. Upgrades, rare and long, go through a ReverseProxy.
type Proxy struct {
	replicas  []replica
	next      atomic.Uint64 // the count of requests sent: picks the next replica
	transport *http.Transport
	upgrades  *httputil.ReverseProxy
}

type replica struct {
	scheme, host string
	name         []string // its ReplicaHeader: {"1"}, {"2"}...

	mu   sync.Mutex // guards idle
	idle []*backend // its keep-alive connections not in use
}

// NewProxy returns a proxy in front of the replicas at these base URLs.
func NewProxy(replicas []string) (*Proxy, error) {
	if len(replicas) == 0 {
		return nil, errors.New("a proxy needs at least one replica")
	}
	p := &Proxy{transport: transport()}
	for i, r := range replicas {
		u, err := url.Parse(r)
		if err != nil {
			return nil, fmt.Errorf("replica %q: %w", r, err)
		}
		p.replicas = append(p.replicas, replica{scheme: u.Scheme, host: u.Host, name: []string{strconv.Itoa(i + 1)}})
	}
	p.upgrades = &httputil.ReverseProxy{
		// The replica is picked in RoundTrip, where a refused one can be
		// skipped; Rewrite only keeps the client's own Host and X-Forwarded
		// headers, so a same-origin check on a replica still passes.
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = p.replicas[0].scheme, p.replicas[0].host
			r.Out.Host = r.In.Host
			r.SetXForwarded()
		},
		Transport: roundTripper(p.roundTrip),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			badGateway(w, err)
		},
	}
	return p, nil
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Upgrade") != "" {
		p.upgrades.ServeHTTP(w, r)
		return
	}
	if err := keepBody(r); err != nil {
		http.Error(w, "proxy: reading the body: "+err.Error(), http.StatusBadRequest)
		return
	}
	// The request goes on as it came, with the client's own Host; only
	// its headers for this one connection stay behind. The server is done
	// with r's headers, so they are edited in place.
	removeHopHeaders(r.Header)
	if _, ok := r.Header["User-Agent"]; !ok {
		r.Header["User-Agent"] = []string{""} // not Go's own
	}
	first := p.next.Add(1) - 1
	var err error
	for i := range p.replicas {
		rep := &p.replicas[(first+uint64(i))%uint64(len(p.replicas))]
		if i > 0 && r.GetBody != nil { // the last try spent the body
			r.Body, _ = r.GetBody()
		}
		var resp *http.Response
		var b *backend
		if resp, b, err = p.send(rep, r); err == nil {
			rep.answer(w, resp, b)
			return
		}
		if !refused(err) {
			break
		}
	}
	badGateway(w, err)
}

// send sends req to rep. A GET, or another request that may be sent
// twice, goes on a connection of the proxy's own (exchange), b. Any other
// goes through the Transport, whose reader on each idle connection knows
// at once when a replica has closed it, so that a POST is never sent on a
// connection that a dead replica left behind.
func (p *Proxy) send(rep *replica, req *http.Request) (resp *http.Response, b *backend, err error) {
	if idempotent(req.Method) {
		return rep.exchange(req)
	}
	out := req.WithContext(req.Context())
	u := *req.URL
	u.Scheme, u.Host = rep.scheme, rep.host
	out.URL, out.RequestURI, out.Close = &u, "", false
	resp, err = p.transport.RoundTrip(out)
	return resp, nil, err
}

// answer copies resp to the client and, if it was read on b, puts b back
// in the replica's pool when it can serve another request.
func (rep *replica) answer(w http.ResponseWriter, resp *http.Response, b *backend) {
	removeHopHeaders(resp.Header)
	h := w.Header()
	for k, v := range resp.Header {
		h[k] = v
	}
	h[ReplicaHeader] = rep.name
	w.WriteHeader(resp.StatusCode)
	// An answer of unknown length may be a stream: each piece goes to the
	// client as it comes, as ReverseProxy does. Others are written whole.
	err := copyBody(w, resp.Body, resp.ContentLength < 0)
	keep := b != nil && b.stop() && err == nil && !resp.Close
	if b != nil && !keep {
		b.conn.Close() // first: closing the body would read a stream to its end
	}
	resp.Body.Close()
	if keep {
		rep.put(b)
	}
	if err != nil {
		panic(http.ErrAbortHandler) // the client must not take half an answer for all of it
	}
	for k, v := range resp.Trailer {
		h[http.TrailerPrefix+k] = v
	}
}

func badGateway(w http.ResponseWriter, err error) {
	http.Error(w, "proxy: no replica answered: "+err.Error(), http.StatusBadGateway)
}

// CloseIdleConnections closes the proxy's idle connections to the replicas.
func (p *Proxy) CloseIdleConnections() {
	p.transport.CloseIdleConnections()
	for i := range p.replicas {
		p.replicas[i].closeIdle()
	}
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
	// The client's own Accept-Encoding goes through; the proxy neither
	// asks for gzip nor unzips.
	t.DisableCompression = true
	return t
}

// roundTrip sends out to the next replica in turn, and on to the one after
// while a replica refuses the connection. The answer names its replica.
func (p *Proxy) roundTrip(out *http.Request) (*http.Response, error) {
	first := p.next.Add(1) - 1
	var err error
	for i := range p.replicas {
		r := &p.replicas[(first+uint64(i))%uint64(len(p.replicas))]
		if i > 0 { // the last try is spent: a new request, body and all
			prev := out
			out = prev.WithContext(prev.Context())
			u := *prev.URL
			out.URL = &u
			if prev.GetBody != nil {
				out.Body, _ = prev.GetBody()
			}
		}
		out.URL.Scheme, out.URL.Host = r.scheme, r.host
		var resp *http.Response
		resp, err = p.transport.RoundTrip(out)
		if err == nil {
			resp.Header[ReplicaHeader] = r.name
			return resp, nil
		}
		if !refused(err) {
			return nil, err
		}
	}
	return nil, err
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// hopHeaders are the headers for one connection only, which a proxy does
// not pass on (RFC 9110 7.6.1), as ReverseProxy's.
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

func removeHopHeaders(h http.Header) {
	for _, f := range h["Connection"] {
		for sf := range strings.SplitSeq(f, ",") {
			if sf = textproto.TrimString(sf); sf != "" {
				h.Del(sf)
			}
		}
	}
	for _, k := range hopHeaders {
		delete(h, k)
	}
}

// copyBufferSize is the size of the buffers the proxy copies bodies with,
// as ReverseProxy's own.
const copyBufferSize = 32 << 10

var bufferPool = sync.Pool{New: func() any { return new([copyBufferSize]byte) }}

// copyBody copies an answer's body to the client, flushing after each
// piece if flush.
func copyBody(w http.ResponseWriter, body io.Reader, flush bool) error {
	buf := bufferPool.Get().(*[copyBufferSize]byte)
	defer bufferPool.Put(buf)
	rc := http.NewResponseController(w)
	if flush {
		rc.Flush() // the headers, even if the body is slow to come
	}
	for {
		n, err := body.Read(buf[:])
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			if flush {
				rc.Flush()
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// keepBody reads a small request body into memory, so that roundTrip can
// send it again to another replica; a body over maxRetryBody, or of
// unknown length, is sent once.
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
