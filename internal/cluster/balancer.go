package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"concurrencylab/internal/server"
)

// Kinds of load balancer, chosen in this order unless asked for by name.
const (
	Auto     = ""         // HAProxy if haproxy is installed (HAProxyPath), else Embedded
	HAProxy  = "haproxy"  // Debian's haproxy, a child process (haproxy.go)
	Embedded = "embedded" // the lab's own Proxy, in this process
)

// BalancerFlagHelp is the text of the -lb flag, for every command that
// has one.
const BalancerFlagHelp = "the load balancer in front of the replicas: haproxy (a child process) or embedded " +
	"(the lab's own Go proxy, in this process); by default haproxy where it is installed, else embedded"

// CheckBalancer checks a -lb flag's value: "" or "auto" (Auto), or a kind.
func CheckBalancer(kind string) (string, error) {
	switch kind {
	case Auto, "auto":
		return Auto, nil
	case HAProxy, Embedded:
		return kind, nil
	}
	return "", fmt.Errorf("-lb %s: no such load balancer: use %s or %s", kind, HAProxy, Embedded)
}

// A Balancer is the round-robin load balancer in front of a cluster's
// replicas: each answer through it names its replica in ReplicaHeader, and
// a replica that refuses the connection is skipped. The caller should call
// Close.
type Balancer struct {
	URL  string // its base URL: what clients use
	Kind string // HAProxy or Embedded

	note string // why this kind, where Auto chose it

	// Embedded
	proxy  *Proxy
	cancel context.CancelFunc // stops the proxy's server
	served chan error         // the proxy's server's result

	// HAProxy
	child *haproxyChild
}

// StartBalancer starts a load balancer of kind (Auto picks) on addr ("" is
// a free 127.0.0.1 port), in front of the replicas at these base URLs. With
// verbose, it logs every request.
func StartBalancer(ctx context.Context, kind, addr string, replicas []string, verbose bool) (*Balancer, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	switch kind {
	case Auto:
		if _, err := HAProxyPath(); err == nil {
			return startHAProxy(ctx, addr, replicas, verbose)
		}
		b, err := startEmbedded(addr, replicas, verbose)
		if err == nil {
			b.note = "; install haproxy to use a real one"
		}
		return b, err
	case HAProxy:
		return startHAProxy(ctx, addr, replicas, verbose)
	case Embedded:
		return startEmbedded(addr, replicas, verbose)
	}
	return nil, fmt.Errorf("no load balancer of kind %q: use %q or %q", kind, HAProxy, Embedded)
}

// String is the one line that says which load balancer this is (the
// cluster's URL says where).
func (b *Balancer) String() string {
	if b.Kind == HAProxy {
		return fmt.Sprintf("load balancer: %s, a child process", b.child.version)
	}
	return "load balancer: embedded (the lab's Go proxy, in this process)" + b.note
}

// Name is the balancer in a few words, for a sentence: "HAProxy 2.6.12"
// or "the lab's Go proxy".
func (b *Balancer) Name() string {
	if b.Kind == HAProxy {
		return b.child.version
	}
	return "the lab's Go proxy"
}

// Close stops the balancer: the embedded one after the requests in flight
// (as internal/server's shutdown does), haproxy at once, by its pid.
func (b *Balancer) Close() {
	if b.Kind == HAProxy {
		b.child.stop()
		return
	}
	b.cancel()
	<-b.served
	b.proxy.CloseIdleConnections()
}

func startEmbedded(addr string, replicas []string, verbose bool) (*Balancer, error) {
	proxy, err := NewProxy(replicas)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	b := &Balancer{URL: "http://" + ln.Addr().String(), Kind: Embedded, proxy: proxy, served: make(chan error, 1)}
	srvCtx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	logger := slog.New(slog.DiscardHandler) // the cluster command says where it listens
	if verbose {
		logger = slog.Default()
	}
	go func() {
		b.served <- server.Serve(srvCtx, ln, server.Config{Verbose: verbose, Logger: logger}, proxy)
	}()
	return b, nil
}
