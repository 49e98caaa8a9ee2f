//go:build lab

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"concurrencylab/internal/browsertest"
	"concurrencylab/internal/labtest"
	"concurrencylab/internal/scenario"
	"concurrencylab/internal/server"
)

// How long the tests of the live page wait.
const (
	// eventWait bounds the wait for the next event of a stream.
	eventWait = 5 * time.Second
	// promptly bounds observer calls that must not wait for a browser,
	// however many, under -race.
	promptly = 5 * time.Second
	// webRunWait bounds the browser test's harness run: a few seconds
	// once its servers are built, more on a cold build cache.
	webRunWait = 3 * time.Minute
)

// An sseEvent is one event of a stream, as a browser's EventSource sees it.
type sseEvent struct {
	name string
	data string
}

// sseStream reads /events as a plain client, and hands each event to the
// test; its channel closes when the stream ends.
type sseStream struct {
	t      *testing.T
	events chan sseEvent
}

func openEvents(t *testing.T, pageURL string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", pageURL+"events", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	s := &sseStream{t: t, events: make(chan sseEvent, 1000)}
	// The stream's reader, the test's: it ends with the stream, or the
	// test.
	go func() {
		defer close(s.events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return s
}

// next is the stream's next event, which must be called name; its data is
// decoded into a map.
func (s *sseStream) next(name string) map[string]any {
	s.t.Helper()
	select {
	case ev, open := <-s.events:
		require.True(s.t, open, "the stream ended before a %s event", name)
		require.Equal(s.t, name, ev.name, "data: %s", ev.data)
		var data map[string]any
		require.NoError(s.t, json.Unmarshal([]byte(ev.data), &data), ev.data)
		return data
	case <-time.After(eventWait):
		s.t.Fatalf("no %s event within %v", name, eventWait)
		return nil
	}
}

// ended waits for the stream to end.
func (s *sseStream) ended() {
	s.t.Helper()
	select {
	case ev, open := <-s.events:
		require.False(s.t, open, "an event after the last: %v", ev)
	case <-time.After(eventWait):
		s.t.Fatalf("the stream did not end within %v", eventWait)
	}
}

// get fetches path from the page, and returns its status and body.
func get(t *testing.T, pageURL, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(pageURL + strings.TrimPrefix(path, "/"))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// field follows keys through decoded JSON: field(m, "row", "result",
// "verdict").
func field(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// versionOf is the registry's row for subject's strategy.
func versionOf(t *testing.T, subject, label string) version {
	t.Helper()
	for _, v := range versions {
		if v.subject.Name == subject && v.label() == label {
			return v
		}
	}
	t.Fatalf("no version %s %s", subject, label)
	return version{}
}

// TestWebPageEvents feeds the page what a run would tell it, and reads
// /events as a browser would, one stream from the start and one that
// connects mid-run; and checks the other routes.
func TestWebPageEvents(t *testing.T) {
	p, err := startWeb("127.0.0.1:0")
	require.NoError(t, err)
	defer p.Close()
	u := p.URL()

	code, body := get(t, u, "/results.json")
	assert.Equal(t, http.StatusServiceUnavailable, code, "no report before the run has ended")
	assert.Equal(t, 1, strings.Count(body, "\n"), "one line: %q", body)
	for _, path := range []string{"/nope", "/vendor/", "/vendor/uplot/", "/events/x", "/web/page.js"} {
		code, _ := get(t, u, path)
		assert.Equal(t, http.StatusNotFound, code, path)
	}
	for path, want := range map[string]string{"/": "page.js", "/page.js": "EventSource", "/page.css": "--good", "/vendor/uplot/uPlot.iife.min.js": "uPlot"} {
		code, body := get(t, u, path)
		assert.Equal(t, http.StatusOK, code, path)
		assert.Contains(t, body, want, path)
	}

	early := openEvents(t, u)
	assert.Equal(t, "starting", early.next("state")["phase"])

	baseline, naive, mutex := versionOf(t, "baseline", "no-op"), versionOf(t, "counter", "naive"), versionOf(t, "counter", "mutex")
	p.building(3, true)
	assert.Equal(t, "servers built with -race", early.next("building")["kind"])
	p.built(3, 3)
	assert.EqualValues(t, 3, early.next("built")["built"])
	p.running(0, 3, baseline)
	assert.Equal(t, "no-op", field(early.next("running"), "row", "strategy"))
	p.rate(1000)
	assert.EqualValues(t, 1000, early.next("rate")["rps"])
	p.running(1, 3, naive)
	assert.EqualValues(t, 1, early.next("running")["current"])
	p.rate(400.4)
	assert.EqualValues(t, 400, early.next("rate")["rps"])

	// The naive counter finishes before the baseline: no ratio yet.
	naiveResult := result{Subject: "counter", Strategy: "naive", Package: naive.pkg, Verdict: scenario.Race, Want: naive.want(true), Declared: true,
		Evidence: "DATA RACE: read in main.(*Store).Inc", Shape: scenario.Steady, RPS: []float64{500}}
	p.finished(1, naiveResult)
	row := early.next("finished")["row"]
	assert.Equal(t, "race", field(row, "result", "verdict"))
	assert.Equal(t, "✓", field(row, "result", "mark"), "declaredMark")
	assert.Equal(t, "-", field(row, "result", "ratio_text"), "no baseline yet")

	// A browser that opens the page now sees all of it so far.
	late := openEvents(t, u)
	state := late.next("state")
	assert.Equal(t, "running", state["phase"])
	assert.EqualValues(t, 1, state["current"])
	assert.Len(t, state["rows"], 3, "every row, once running says how many")
	assert.Equal(t, "no-op", field(state, "rows", 0, "strategy"))
	assert.Nil(t, field(state, "rows", 0, "result"), "the baseline is still stopping")
	assert.Equal(t, "race", field(state, "rows", 1, "result", "verdict"))
	assert.Nil(t, field(state, "rows", 2), "a row the run has not reached")
	assert.Equal(t, []any{map[string]any{"t": field(state, "rates", 0, "t"), "rps": 400.0}}, state["rates"], "the live rate of the row under load only")

	// The baseline finishes: its row, and the naive one's again, now with
	// its ratio, to both browsers.
	p.finished(0, result{Subject: "baseline", Strategy: "no-op", Package: baseline.pkg, Verdict: scenario.OK, Want: ok, Declared: true,
		Shape: scenario.Steady, RPS: []float64{1000, 1000}})
	for _, s := range []*sseStream{early, late} {
		assert.Equal(t, "1.00", field(s.next("finished"), "row", "result", "ratio_text"))
		row := s.next("finished")["row"]
		assert.EqualValues(t, 1, field(row, "i"))
		assert.Equal(t, "0.50", field(row, "result", "ratio_text"))
		assert.EqualValues(t, 0.5, field(row, "result", "ratio", "median"))
	}

	p.running(2, 3, mutex)
	p.rate(900)
	mutexResult := result{Subject: "counter", Strategy: "mutex", Package: mutex.pkg, Verdict: scenario.Broken, Want: ok,
		Evidence: "i: 1 after 2 increments", Shape: scenario.Steady, RPS: []float64{900, 700}}
	p.finished(2, mutexResult)
	p.status("waiting for the servers to stop…")
	for _, s := range []*sseStream{early, late} {
		assert.EqualValues(t, 2, s.next("running")["current"])
		assert.EqualValues(t, 900, s.next("rate")["rps"])
		row := s.next("finished")["row"]
		assert.Equal(t, "✗ want ok", field(row, "result", "mark"), "declaredMark")
		assert.Equal(t, "800 ±12%", field(row, "result", "rps_text"), "rpsCell")
		assert.Equal(t, "0.80 (0.70–0.90)", field(row, "result", "ratio_text"), "ratioCell")
		assert.Equal(t, "waiting for the servers to stop…", s.next("status")["status"])
	}

	rep := runReport{Command: "go run ./loadtest -web", Race: true, Load: "hey", N: 2, C: 2, Repeat: 2, Machine: "a test", Wall: 1234 * time.Millisecond,
		Results: []result{{Subject: "baseline", Strategy: "no-op", Verdict: scenario.OK, Want: ok, Declared: true, RPS: []float64{1000}}, naiveResult, mutexResult}}
	addRatios(rep.Results)
	p.ended(rep)
	for _, s := range []*sseStream{early, late} {
		d := s.next("ended")
		assert.Equal(t, "ended", d["phase"])
		assert.Len(t, d["rows"], 3)
		assert.Equal(t, "3 versions in 1.2s: 1 of 3 verdicts not as the lab declares ✗.", field(d, "end", "summary"))
		assert.Equal(t, false, field(d, "end", "all_declared"))
		assert.Equal(t, "go run ./loadtest -web", field(d, "end", "command"))
		assert.Equal(t, []any{"servers built with -race", "hey load, 2 requests × 2 bursts, 2 at a time", "a test"}, field(d, "end", "about"), "as the table's first line")
	}
	code, body = get(t, u, "/results.json")
	require.Equal(t, http.StatusOK, code)
	var want bytes.Buffer
	require.NoError(t, writeJSON(&want, rep))
	assert.Equal(t, want.String(), body, "the report as -json writes it")

	// Close ends every stream, saying so.
	p.Close()
	for _, s := range []*sseStream{early, late} {
		s.next("closed")
		s.ended()
	}
}

// TestWebPageAddressInUse: -web at a port that is taken says so, and how
// to choose another.
func TestWebPageAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	_, err = startWeb(ln.Addr().String())
	require.Error(t, err)
	assert.Equal(t, ln.Addr().String()+" is in use: -web ADDR for another", err.Error())
}

// TestWebPageStalledBrowser: a browser that stops reading its stream does
// not slow the harness. The page's observer calls still return at once, a
// browser that opens the page then gets everything, and Close does not
// wait for the stalled one for longer than it should.
func TestWebPageStalledBrowser(t *testing.T) {
	p, err := startWeb("127.0.0.1:0")
	require.NoError(t, err)
	defer p.Close()

	// The stalled browser asks for the stream and never reads it, with a
	// small receive buffer, so that its socket fills at once.
	conn, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(p.URL(), "http://"), "/"))
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.(*net.TCPConn).SetReadBuffer(4096))
	_, err = fmt.Fprintf(conn, "GET /events HTTP/1.1\r\nHost: test\r\n\r\n")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.clients) == 1
	}, eventWait, time.Millisecond, "the stalled browser's stream is open")

	// Far more than the sockets between the two hold: some 16 MB of
	// events.
	const events = 1000
	padding := strings.Repeat("x", 16<<10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.running(0, 1, versionOf(t, "counter", "mutex"))
		for k := range events {
			p.rate(float64(k))
			p.status(fmt.Sprintf("%d %s", k, padding))
		}
		p.finished(0, result{Subject: "counter", Strategy: "mutex", Verdict: scenario.OK, Want: ok, Declared: true, Evidence: "the last"})
	}()
	select {
	case <-done:
	case <-time.After(promptly):
		t.Fatalf("%d observer calls did not return within %v: a stalled browser holds up the harness", 3*events, promptly)
	}

	fresh := openEvents(t, p.URL())
	state := fresh.next("state")
	assert.Equal(t, "the last", field(state, "rows", 0, "result", "evidence"))
	assert.True(t, strings.HasPrefix(state["status"].(string), strconv.Itoa(events-1)+" "), "the last status")

	closed := make(chan struct{})
	go func() {
		defer close(closed)
		p.Close()
	}()
	select {
	case <-closed:
	case <-time.After(webShutdownWait + promptly):
		t.Fatalf("Close took longer than %v with a stalled browser", webShutdownWait+promptly)
	}
	fresh.next("closed")
	fresh.ended()
}

// TestWebPageInBrowser runs the harness on the counter's versions with the
// live page, opens it in Chromium while the run goes, and checks that the
// page shows what the harness reports: the same rows, verdicts and marks as
// -json prints, a live rate that moved, a bar per version measured, and a
// link to the report once the run is over. With LAB_SCREENSHOTS=1 it
// writes docs/live-page.png (and docs/live-page-running.png, mid-run).
func TestWebPageInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the counter's versions: not in -short")
	}
	tab := browsertest.New(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// The counter's versions, quickly; with LAB_SCREENSHOTS=1, the whole
	// lab as the README's `go run ./loadtest -web` runs it, so that the
	// screenshots in docs/ show what the room sees. Each row's load lasts
	// about a second, so that the live rate is measured (every rateEvery)
	// several times under load: with 1500 requests, some runs drew only one.
	args, only := []string{"-subject", "counter", "-replicas=false",
		"-n", "3000", "-c", "50", "-repeat", "2", "-short", "-json"}, options{subjects: []string{"counter"}}
	whole := os.Getenv("LAB_SCREENSHOTS") == "1"
	if whole {
		args, only = nil, options{replicas: true}
	}
	h := runWithPage(t, ctx, tab, args...)
	pageURL, exit, stdout, stderr := h.url, h.exit, &h.stdout, &h.stderr

	// Mid-run: a few rows done, one under load, the rest pending; unless
	// the run was quicker than the browser.
	midRun := waitForRun(t, tab, "a row under load, with two done", `(s => s.phase === "ended" ? "ended" :
		s.current >= 3 && s.rates.length >= 2 && s.rows.filter(r => r && r.result).length >= 2 && "running")(labPage.state)`)
	if midRun == "running" {
		browsertest.Screenshot(t, tab, "../docs/live-page-running.png")
	}
	waitForRun(t, tab, "the page to say the run ended", `labPage.state.phase === "ended" && "ended"`)

	code, body := get(t, pageURL, "/results.json")
	require.Equal(t, http.StatusOK, code)
	var rep runReport
	require.NoError(t, json.Unmarshal([]byte(body), &rep))
	want, err := selected(only)
	require.NoError(t, err)
	require.Len(t, rep.Results, len(want))

	// The table, cell by cell, as the terminal's.
	cells := browsertest.Get(t, tab, "reading the table", chromedp.Evaluate[[][]string](
		`[...document.querySelectorAll("#rows tr")].map(tr => [...tr.cells].map(td => td.textContent))`))
	require.Len(t, cells, len(rep.Results), "a row per version")
	sawRace := false
	for j, r := range rep.Results {
		assert.Equal(t, []string{r.Subject, r.Strategy, string(r.Verdict), declaredMark(r), rpsCell(r), ratioCell(r), r.Evidence}, cells[j], "row %d", j)
		sawRace = sawRace || r.Verdict == scenario.Race && r.Declared
	}
	assert.True(t, sawRace, "the naive counter's race, as declared")
	marks := browsertest.Get(t, tab, "reading the marks' colours", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("#rows td.mark")].map(td => getComputedStyle(td).color)`))
	for j, r := range rep.Results {
		if r.Declared {
			assert.Equal(t, "rgb(10, 122, 42)", marks[j], "✓ is green, row %d", j)
		} else {
			assert.Equal(t, "rgb(196, 0, 24)", marks[j], "✗ is red, row %d", j)
		}
	}

	// The live rate moved: what the page drew into its chart.
	drawn := browsertest.Get(t, tab, "reading the live rates drawn", chromedp.Evaluate[[]float64](`labPage.drawn`))
	distinct := map[float64]bool{}
	for _, rps := range drawn {
		if rps > 0 {
			distinct[rps] = true
		}
	}
	assert.GreaterOrEqual(t, len(distinct), 2, "distinct live rates drawn: %v", drawn)
	assert.True(t, browsertest.Get(t, tab, "finding the chart", chromedp.Evaluate[bool](`document.querySelector("#rate-chart canvas") !== null`)))

	// A bar per version with a ratio to its baseline.
	var ratios []string
	for _, r := range rep.Results {
		if r.Ratio != nil {
			ratios = append(ratios, fmt.Sprintf("%.2f", r.Ratio.Median))
		}
	}
	bars := browsertest.Get(t, tab, "reading the bars", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("#bars .bar-value")].map(e => e.textContent)`))
	assert.Equal(t, ratios, bars)

	// The last word, and the report's link.
	assert.Equal(t, "results.json", browsertest.Get(t, tab, "reading the link", chromedp.Evaluate[string](`document.querySelector("#results-link").getAttribute("href")`)))
	over := browsertest.Get(t, tab, "reading the last line", chromedp.Text("#over"))
	assert.Contains(t, over, "The run is over: "+fmt.Sprintf("%d versions in %v", len(rep.Results), rep.Wall.Round(100*time.Millisecond)))
	assert.Contains(t, over, "every verdict as the lab declares ✓")
	browsertest.Screenshot(t, tab, "../docs/live-page.png")

	// Ctrl-C: the harness returns, and the page hears it has gone.
	cancel()
	select {
	case code := <-exit:
		assert.Equal(t, 0, code, "stderr: %s", stderr.String())
	case <-time.After(webShutdownWait + promptly):
		t.Fatal("run did not return after Ctrl-C")
	}
	assert.True(t, browsertest.Get(t, tab, "hearing the harness go", chromedp.Poll[bool](`labPage.closed`)))
	if whole {
		assert.Contains(t, stdout.String(), fmt.Sprintf("%d versions in", len(want)), "the table, printed as without -web")
	} else {
		var printed runReport
		require.NoError(t, json.Unmarshal(stdout.Bytes(), &printed), "stdout: %s", stdout.String())
		assert.Equal(t, rep, printed, "/results.json is what -json prints")
	}
	assert.Contains(t, stderr.String(), "the live page is at "+pageURL)
	assert.True(t, slices.ContainsFunc(rep.Results, func(r result) bool { return r.Subject == "baseline" }))
}

// waitForRun polls expr in tab until it is a string, for as long as a run
// of the harness may take, and returns it.
// pageRun is the harness run with its live page by runWithPage.
type pageRun struct {
	url            string   // the page's
	exit           chan int // the harness's exit status, once run returns
	stdout, stderr bytes.Buffer
}

// runWithPage runs the harness with -web on a free port and args after it,
// as `go run ./loadtest -web ADDR ...` does, until ctx ends, and opens its
// page in tab once it is served. Read stdout and stderr once exit has
// sent.
func runWithPage(t *testing.T, ctx, tab context.Context, args ...string) *pageRun {
	t.Helper()
	port, err := server.FreePort()
	require.NoError(t, err)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	h := &pageRun{url: "http://" + addr + "/", exit: make(chan int, 1)}
	go func() { h.exit <- run(ctx, append([]string{"-web", addr}, args...), &h.stdout, &h.stderr) }()
	require.Eventually(t, func() bool {
		resp, err := http.Get(h.url)
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	}, browsertest.Wait, 10*time.Millisecond, "the page is served")
	browsertest.Do(t, tab, "opening the page", chromedp.Navigate(h.url))
	return h
}

func waitForRun(t *testing.T, tab context.Context, what, expr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, webRunWait)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Poll[string](expr, chromedp.WithPollingTimeout(0)))
	require.NoError(t, err, "waiting for %s", what)
	return v
}

// TestHistoryDrawnInBrowser runs the stale-read row with the live page:
// the row links its drawn history, the harness serves it (and nothing
// else under /histories/), and the drawing shows the clients' operations
// with the first wrong answer marked. With LAB_SCREENSHOTS=1 it writes
// docs/history-stale-reads.png, the workshop's picture of it.
func TestHistoryDrawnInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the cached Redis counter: not in -short")
	}
	labtest.NeedCommand(t, "redis-server", "apt-get install redis-server") // the row's Redis; miniredis would do, but slower
	tab := browsertest.New(t)
	report := filepath.Join(t.TempDir(), "results.md")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	h := runWithPage(t, ctx, tab, "-subject", "counter", "-strategy", "redis-cache",
		"-n", "1000", "-c", "50", "-repeat", "2", "-report", report)
	pageURL := h.url
	waitForRun(t, tab, "the page to say the run ended", `labPage.state.phase === "ended" && "ended"`)

	href := browsertest.Get(t, tab, "reading the row's link", chromedp.Evaluate[string](
		`(a => a ? a.getAttribute("href") : "")(document.querySelector("#rows a.drawing"))`))
	require.Equal(t, "histories/history-5_redis-counter-read-cache-x3.html", href)
	code, body := get(t, pageURL, href)
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "first wrong answer", "porcupine's drawing, marked")
	code, _ = get(t, pageURL, "histories/results.md")
	assert.Equal(t, http.StatusNotFound, code, "only a row's drawing is served")

	browsertest.Do(t, tab, "opening the drawing", chromedp.Navigate(pageURL+href))
	ops := browsertest.Get(t, tab, "counting the drawn operations", chromedp.Evaluate[int](
		`document.querySelectorAll(".history-rect").length`))
	assert.Greater(t, ops, 100, "a rectangle per operation: some hundreds")
	// Porcupine's own link scrolls to the first operation it could not
	// place, and selects its partition: the picture is what it shows.
	browsertest.Do(t, tab, "showing the first error", chromedp.EmulateViewport(1400, 470))
	scrolled := browsertest.Get(t, tab, "jumping to the first error", chromedp.Evaluate[bool](`new Promise(done => {
		document.addEventListener("scrollend", () => done(true), {once: true, capture: true});
		setTimeout(() => done(false), 3000);
		document.querySelector("#jump-link").dispatchEvent(new MouseEvent("click", {bubbles: true}));
	})`, chromedp.EvalAwaitPromise))
	assert.True(t, scrolled, "porcupine scrolled to the first error")
	browsertest.ScreenshotViewport(t, tab, "../docs/history-stale-reads.png")

	cancel()
	<-h.exit
	assert.Contains(t, h.stdout.String(), "history of counter redis-cache ×3 drawn: "+filepath.Join(filepath.Dir(report), "history-5_redis-counter-read-cache-x3.html"))
}
