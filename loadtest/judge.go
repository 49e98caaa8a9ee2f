package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"concurrencylab/internal/childproc"
	"concurrencylab/internal/scenario"
	"concurrencylab/internal/server"
)

// portPlaceholder is where -cmd's command takes the port to serve on.
const portPlaceholder = "{port}"

// judge drives a server the harness did not build, running at -url or
// started by -cmd, with its subject's drive and battery, and gives it a
// verdict from its behaviour alone, in two parts: the concurrency
// invariant, and the contract's bad-input cases, scored apart. The race
// detector cannot see into another process, so the verdict rests on the
// invariants.
func judge(ctx context.Context, o options, s subject, l loader) (runReport, error) {
	rep := newReport(o, l)
	rep.Race, rep.External = false, true
	shape := s.loadShape()
	if s.heyOnly {
		l = heyLoader{}
		rep.Load = l.name()
	}
	start := time.Now()
	res := result{Subject: s.Name, Strategy: "external", Package: serverName(o), Want: ok, Load: l.name(), Shape: shape}

	base, p, err := startJudged(ctx, o)
	if err != nil {
		return rep, err
	}
	var d deployment
	if p != nil {
		d = p
	}
	tg, load := newTarget(base, p, d, l, o, shape)
	tg.DrawTo = o.drawingPath("judged")
	evidence, err := s.Drive(ctx, tg)
	res.Drawing = scenario.Drawing(err)
	res.measured(load)
	res.Verdict, res.Evidence = scenario.VerdictOf(err), evidence
	if err != nil {
		res.Evidence = scenario.Explain(err)
	}
	if p != nil && !p.Running() {
		res.Verdict, res.Evidence = scenario.Crashed, "exited: "+lastLine(p.Output())
	}
	if res.Verdict != scenario.Crashed {
		score, err := s.Battery.Run(ctx, tg)
		if err != nil {
			score.Deviations = append([]string{err.Error()}, score.Deviations...)
		}
		res.Contract = &score
	}
	tg.Client.CloseIdleConnections()
	if p != nil {
		p.Stop(stopWait)
		res.ExitCode = p.ExitCode()
		if o.verbose {
			fmt.Fprintf(o.stderr, "==== %s: what the server wrote\n%s\n", o.cmd, p.Output())
		}
	}
	res.Declared = res.Verdict == scenario.OK
	res.Elapsed = time.Since(start)
	rep.Results = []result{res}
	return rep, nil
}

// startJudged returns the base URL of the server to judge, and its process
// if -cmd started it.
func startJudged(ctx context.Context, o options) (string, *childproc.Process, error) {
	if o.url != "" {
		base, err := loopbackURL(o.url)
		return base, nil, err
	}
	port, err := server.FreePort()
	if err != nil {
		return "", nil, err
	}
	line := strings.ReplaceAll(o.cmd, portPlaceholder, strconv.Itoa(port))
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command("sh", "-c", line)
	p, err := childproc.Start(ctx, cmd, childproc.Ready{URL: base, Wait: startWait})
	if err != nil {
		return "", nil, fmt.Errorf("-cmd %s: %w", line, err)
	}
	return base, p, nil
}

// loopbackURL checks that raw is an http URL of this machine: the harness
// loads nothing else.
func loopbackURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return "", fmt.Errorf("-url %q: want http://127.0.0.1:PORT", raw)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("-url %q: the harness loads only servers on this machine (127.0.0.1, localhost, [::1])", raw)
	}
	return strings.TrimSuffix(u.Scheme+"://"+u.Host+u.Path, "/"), nil
}

// serverName names the judged server in the table: its URL, or its
// command.
func serverName(o options) string {
	if o.url != "" {
		return o.url
	}
	return o.cmd
}

// judged says what the verdict rests on, and returns the exit status: 0
// only if the invariant held and every bad-input case was answered as the
// contract says.
func judged(rep runReport, jsonOut bool, stderr io.Writer) int {
	if jsonOut { // the table says so itself
		fmt.Fprintln(stderr, "loadtest: the verdict rests on the invariants alone: the race detector cannot see into another process.")
	}
	r := rep.Results[0]
	if r.Verdict != scenario.OK || r.Contract == nil || !r.Contract.Full() {
		return 1
	}
	return 0
}

// answersAt checks that something listens at url before it is judged: a
// server that is not there is not judged, and the error says how to start
// one.
func answersAt(ctx context.Context, url string) error {
	base, err := loopbackURL(url)
	if err != nil {
		return err
	}
	host := strings.TrimPrefix(strings.TrimPrefix(base, "http://"), "https://")
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return fmt.Errorf("nothing answers at %s (%v): start your server there first, or let the harness start it with -cmd 'COMMAND {port}'", url, err)
	}
	return conn.Close()
}
