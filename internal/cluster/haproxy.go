package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"text/template"
	"time"

	"concurrencylab/internal/childproc"
)

// Timing of a haproxy child.
const (
	haproxyStartWait = 10 * time.Second // until it answers
	haproxyStopWait  = 5 * time.Second  // after SIGINT, before SIGKILL
)

// haproxyConfig is the configuration the lab writes for haproxy: round
// robin over the replicas, as the lab's own Proxy does.
//
//   - The listening socket is the lab's, inherited as fd 3: the port is
//     taken before haproxy starts, with no race for a free one, and a port
//     in use is the same error as for the embedded proxy.
//   - Keep-alive on both sides, and idle connections to the replicas
//     shared between clients (http-reuse always).
//   - A replica whose port is closed (killed, or not up yet) is skipped: a
//     connection refused is retried on another replica (retry-on
//     conn-failure, redispatch on every retry), which is safe because the
//     replica never saw the request. A GET whose connection closed with no
//     answer (an idle one that a killed replica left behind) is sent to
//     another replica too, as the lab's Go proxy's transport does, and
//     most do; any other method gets a 502.
//   - A client that hangs up while its request waits at a replica is hung
//     up on there too (abortonclose), as the lab's Go proxy does: a
//     matchmaker's client that left is never handed out. (By default
//     haproxy takes the client's close for a half-close, and waits on.)
//   - Long timeouts: a matchmaker's client waits for its peer up to its
//     pair timeout (a minute by default), and a websocket (the notifier's
//     subscribers) lasts as long as it is open (timeout tunnel).
//   - Each answer names its replica, 1, 2, 3..., in ReplicaHeader, as the
//     Proxy's do.
//   - monitor-uri answers /lab-ready itself, so that the wait for haproxy
//     to answer (childproc's) never reaches a replica.
//   - Header names in answers as the replicas write them (Lab-Replica,
//     Content-Type), where haproxy would write them in lower case: the
//     same to any HTTP client, but not to a learner reading curl -i.
//   - No logs unless verbose, when each request is a line on stderr,
//     inherited as fd 4.
var haproxyConfig = template.Must(template.New("haproxy.cfg").
	Funcs(template.FuncMap{"inc": func(i int) int { return i + 1 }}).
	Parse(`# Written by concurrencylab (internal/cluster/haproxy.go) for one run.
global
	fd-hard-limit 20000
{{- range .Headers}}
	h1-case-adjust {{.}}
{{- end}}
{{- if .Verbose}}
	log fd@4 format raw local0 info
{{- end}}

defaults
	mode http
{{- if .Verbose}}
	log global
	option httplog
{{- end}}
	option http-keep-alive
	http-reuse always
	option forwardfor
	retries {{.Retries}}
	retry-on conn-failure empty-response
	option redispatch 1
	option abortonclose
	timeout connect 2s
	timeout client 10m
	timeout server 10m
	timeout http-request 30s
	timeout http-keep-alive 1m
	timeout tunnel 1h
	timeout client-fin 5s
	timeout server-fin 5s

frontend lab
	bind fd@3
	monitor-uri /lab-ready
	option h1-case-adjust-bogus-client
	default_backend replicas

backend replicas
	balance roundrobin
	http-request disable-l7-retry unless METH_GET
	http-response set-header ` + ReplicaHeader + ` %[srv_id]
{{- range $i, $addr := .Servers}}
	server r{{inc $i}} {{$addr}} id {{inc $i}}
{{- end}}
`))

// caseAdjusted are the header names that haproxy writes as a Go server
// does (h1-case-adjust), for a learner reading curl -i.
var caseAdjusted = []string{
	"Cache-Control", "Connection", "Content-Length", "Content-Type", "Date", "Location",
	ReplicaHeader, "Sec-Websocket-Accept", "Transfer-Encoding", "Upgrade", "X-Content-Type-Options",
}

// caseHeaders are caseAdjusted as h1-case-adjust's arguments: "date Date".
func caseHeaders() []string {
	var lines []string
	for _, h := range caseAdjusted {
		lines = append(lines, strings.ToLower(h)+" "+h)
	}
	return lines
}

// HAProxyPath is where haproxy is installed: on PATH, or where Debian
// puts it, /usr/sbin, which a user's PATH often leaves out.
func HAProxyPath() (string, error) {
	if path, err := exec.LookPath("haproxy"); err == nil {
		return path, nil
	}
	for _, path := range []string{"/usr/sbin/haproxy", "/usr/local/sbin/haproxy"} {
		if _, err := exec.LookPath(path); err == nil { // an executable file
			return path, nil
		}
	}
	return "", errors.New("haproxy is not installed (apt-get install haproxy)")
}

// haproxyChild is a haproxy the lab started.
type haproxyChild struct {
	version string // "HAProxy 2.6.12"
	proc    *childproc.Process
	dir     string // its config's
}

// startHAProxy starts haproxy in the foreground (-db: no daemon, no
// master process, so the pid is haproxy's own) on addr, in front of the
// replicas, and waits until it answers.
func startHAProxy(ctx context.Context, addr string, replicas []string, verbose bool) (*Balancer, error) {
	path, err := HAProxyPath()
	if err != nil {
		return nil, err
	}
	version, err := haproxyVersion()
	if err != nil {
		return nil, err
	}
	var servers []string
	for _, r := range replicas {
		u, err := url.Parse(r)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("replica %q: not a base URL", r)
		}
		servers = append(servers, u.Host)
	}
	if len(servers) == 0 {
		return nil, fmt.Errorf("a load balancer needs at least one replica")
	}
	dir, err := os.MkdirTemp("", "lab-haproxy-")
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "haproxy.cfg")
	var text strings.Builder
	haproxyConfig.Execute(&text, struct {
		Servers []string
		Retries int
		Verbose bool
		Headers []string
	}{servers, len(servers) - 1, verbose, caseHeaders()})
	if err := os.WriteFile(cfg, []byte(text.String()), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("load balancer: %w", err)
	}
	f, err := ln.(*net.TCPListener).File()
	ln.Close() // the socket stays open in f, for haproxy
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer f.Close() // haproxy has its own once started
	cmd := exec.Command(path, "-db", "-f", cfg)
	cmd.ExtraFiles = []*os.File{f} // fd 3
	if verbose {
		cmd.ExtraFiles = append(cmd.ExtraFiles, os.Stderr) // fd 4
	}
	// haproxy takes no Ctrl-C of the terminal's (childproc starts it in a
	// process group of its own): the cluster stops the replicas first,
	// which answer what waits, and then haproxy.
	b := &Balancer{URL: "http://" + ln.Addr().String(), Kind: HAProxy}
	p, err := childproc.Start(ctx, cmd, childproc.Ready{URL: b.URL, Wait: haproxyStartWait})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting haproxy: %s", alerts(err))
	}
	b.child = &haproxyChild{version: version, proc: p, dir: dir}
	return b, nil
}

// alerts is childproc's error for a haproxy that did not start, which
// quotes its first lines, from its first [ALERT] on: haproxy's own words
// for why, without the notices before them (its version, its path).
func alerts(err error) string {
	msg := err.Error()
	head, _, _ := strings.Cut(msg, ": [NOTICE]")
	if i := strings.Index(msg, "[ALERT]"); i >= 0 && head != msg {
		return head + ": " + msg[i:]
	}
	return msg
}

// stop stops haproxy by its pid, at once (SIGINT, which haproxy takes as
// SIGTERM: a hard stop), and kills it if it is slow.
func (h *haproxyChild) stop() {
	h.proc.Stop(haproxyStopWait)
	os.RemoveAll(h.dir)
}

// haproxyVersion is "HAProxy 2.6.12", from haproxy -v, asked once.
var haproxyVersion = sync.OnceValues(func() (string, error) {
	path, err := HAProxyPath()
	if err != nil {
		return "", err
	}
	out, err := exec.Command(path, "-v").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("haproxy -v: %v: %s", err, strings.TrimSpace(string(out)))
	}
	// HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/
	fields := strings.Fields(string(out))
	if len(fields) < 3 || fields[1] != "version" {
		return "HAProxy", nil
	}
	v, _, _ := strings.Cut(fields[2], "-")
	return "HAProxy " + v, nil
})
