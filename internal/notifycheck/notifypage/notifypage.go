//go:build lab

// Package notifypage checks the notifier's page (GET /, notifyapi's
// home.html) in a real browser, as the people in a workshop use it: two
// tabs of it, a change made in one shown in both, and what /stats counts
// once one of them is closed. Every notifier version's tests call it. It is
// a package of its own so that notifyapi, which the servers link, does not
// import chromedp.
package notifypage

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"concurrencylab/internal/browsertest"
	"concurrencylab/internal/notifyapi"
	"concurrencylab/internal/notifycheck"
	"concurrencylab/internal/scenario"
)

// Screenshot is where the page's screenshot goes, relative to the module's
// root: the docs show it. One version's test takes it; the others pass "".
const Screenshot = "docs/notifier-page.png"

// The bounds of the check's waits. They are not delays: each wait ends as
// soon as what it waits for is there, except keptWait, which is how long a
// leak must last to count as one.
const (
	// pageWait bounds a wait for a tab to show something: an event or its
	// websocket's state within milliseconds, /stats within the page's
	// one-second poll.
	pageWait = 10 * time.Second

	// requestWait bounds one request from Go.
	requestWait = 5 * time.Second

	// removeWait bounds how long a server that notices a closed tab may go
	// on counting it. Its reader sees the close frame at once on loopback,
	// so this is generous (the scenarios' removalWait), not a delay.
	removeWait = 3 * time.Second

	// keptWait is how long a server that never notices a closed tab must
	// go on counting it, after the change that gave it every chance to. A
	// server that notices has long stopped by then: within milliseconds,
	// and the harness's verdict "leaked" gives it one second (drive.go's
	// removeWait), as this does.
	keptWait = time.Second

	// statsPoll is how often Go reads /stats while it waits.
	statsPoll = 10 * time.Millisecond
)

// The bodies typed into the forms.
const (
	createBody = `{"name":"lamp","on":true}`
	updateBody = `{"name":"lamp","on":false}`
	lastBody   = `{"name":"lamp","on":true,"brightness":80}`
)

// CheckTabs opens the page of the notifier at url, a fresh one (no change
// made yet), in two tabs of a headless Chromium, and checks what the
// people using it see, through the page's forms and lists only:
//
//   - both tabs' websockets open, and /stats counts 2 subscribers, from Go
//     and on both pages;
//   - a resource created with tab 1's form is stored with the body typed,
//     and both tabs list its event;
//   - modifying a resource that does not exist shows the 404's line in
//     tab 2 and publishes nothing; modifying the one there is, from tab 2,
//     is listed in both tabs;
//   - tab 2 is closed, as a user closes a tab, and tab 1 makes one more
//     change; then /stats, from Go and on tab 1, counts afterClose
//     subscribers: 1 where the server notices that a tab has gone, 2 for
//     the naive seed, which never does (see awaitKept).
//
// A server that removes the closed tab must remove tab 1 too when it
// closes, and count none. With screenshot not empty, tab 1 is captured
// before it closes, to screenshot (relative to the module's root) with
// LAB_SCREENSHOTS=1 (see browsertest.Screenshot).
func CheckTabs(t *testing.T, url string, afterClose int64, screenshot string) {
	t.Helper()
	if afterClose != 1 && afterClose != 2 {
		t.Fatalf("CheckTabs: afterClose is %d; of two tabs, one closed, a server counts 1 (removed) or 2 (kept)", afterClose)
	}
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections) // no idle connection left for goleak
	tg := &scenario.Target{URL: url, Client: hc}
	c := notifycheck.NewClient(tg, requestWait)
	if s := stats(t, c); s != (notifyapi.Stats{}) {
		t.Fatalf("CheckTabs needs a fresh notifier, with no subscriber and no change: /stats is %+v", s)
	}

	browser := browsertest.New(t)
	// Both tabs are opened with Tab, which can close them; the browser's
	// first tab stays blank.
	tab1, closeTab1 := browsertest.Tab(t, browser)
	tab2, closeTab2 := browsertest.Tab(t, browser)
	tabs := []*page{{t, "tab 1", tab1}, {t, "tab 2", tab2}}
	for _, p := range tabs {
		browsertest.Do(t, p.ctx, "loading the page in "+p.name, chromedp.Navigate(url+"/"))
		p.await("its websocket open", `document.getElementById("ws").dataset.state === "open"`)
	}
	awaitSubscribers(t, c, 2, removeWait, "both tabs open")
	for _, p := range tabs {
		p.awaitSubscribers(2)
	}

	// A change made in one tab reaches both: the event is the websocket's,
	// not the answer's, which only tab 1 gets.
	tabs[0].submit("create-form", map[string]string{"create-body": createBody})
	tabs[0].awaitStatus(true, "POST /resources → 201")
	for _, p := range tabs {
		p.awaitEvent(1, notifyapi.Created, 1)
	}
	if got := get(t, tg, "/resources/1"); got != createBody+"\n" {
		t.Fatalf("GET /resources/1 is %q, not the body typed in tab 1's form, %q", got, createBody)
	}

	// Bad input shows its one line, and publishes nothing: the next
	// change is seq 2.
	tabs[1].submit("update-form", map[string]string{"update-id": "999", "update-body": updateBody})
	tabs[1].awaitStatus(false, `PUT /resources/999 → 404 Not Found: no resource "999"`)
	tabs[1].submit("update-form", map[string]string{"update-id": "1", "update-body": updateBody})
	tabs[1].awaitStatus(true, "PUT /resources/1 → 200")
	for _, p := range tabs {
		p.awaitEvent(2, notifyapi.Modified, 1)
	}

	// A user closes tab 2, and the browser ends its websocket. Then one
	// more change, which a server fans out to every subscriber it still
	// has.
	closeTab2()
	tabs[0].submit("update-form", map[string]string{"update-id": "1", "update-body": lastBody})
	tabs[0].awaitStatus(true, "PUT /resources/1 → 200")
	tabs[0].awaitEvent(3, notifyapi.Modified, 1)
	if afterClose == 1 {
		awaitSubscribers(t, c, 1, removeWait, "tab 2 closed, and one more change made")
	} else {
		awaitKept(t, c, 3)
	}
	tabs[0].awaitSubscribers(afterClose)
	tabs[0].await("its websocket still open", `document.getElementById("ws").dataset.state === "open"`)

	if screenshot != "" {
		tabs[0].screenshot(filepath.Join(moduleRoot(t), screenshot))
	}
	closeTab1()
	if afterClose == 1 {
		// Nothing of the server's is left serving the tabs: goleak, in
		// the versions' TestMain, would find it otherwise.
		awaitSubscribers(t, c, 0, removeWait, "both tabs closed")
	}
}

// awaitKept checks what the naive seed does with the closed tab: it never
// removes it. Its goroutine for a connection reads nothing, so it cannot
// see the close frame; it notices only when a write to the dead socket
// fails, and on Linux the first write after the close succeeds (the
// kernel takes it; the browser's answer, a reset, fails the next). So the
// change after the close is the point where the server has had every
// chance: it wrote that event to the closed tab's connection, which
// Delivered counts (every event to both tabs: 2 × published), and went on
// counting the tab. A server that notices a close would not have written
// it, or would have stopped counting the tab within milliseconds: /stats
// must still count both after keptWait.
func awaitKept(t *testing.T, c *notifycheck.Client, published int64) {
	t.Helper()
	want := notifyapi.Stats{Subscribers: 2, Published: published, Delivered: 2 * published}
	s, ok, err := c.AwaitStats(t.Context(), removeWait, statsPoll, func(s notifyapi.Stats) bool { return s == want || s.Subscribers != 2 })
	switch {
	case err != nil:
		t.Fatal(err)
	case !ok || s != want:
		t.Fatalf("tab 2 closed, and one more change made: /stats is %+v after up to %v, want %+v (the change written to the closed tab too, and the tab still counted)",
			s, removeWait, want)
	}
	deadline := time.Now().Add(keptWait)
	for time.Now().Before(deadline) {
		if s := stats(t, c); s != want {
			t.Fatalf("a server that never notices a closed tab stopped counting it: /stats is %+v, want %+v for %v after the change", s, want, keptWait)
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(statsPoll):
		}
	}
}

// stats reads /stats from Go, or fails t.
func stats(t *testing.T, c *notifycheck.Client) notifyapi.Stats {
	t.Helper()
	s, err := c.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// awaitSubscribers polls /stats from Go until it counts n subscribers, and
// fails t if it does not within wait.
func awaitSubscribers(t *testing.T, c *notifycheck.Client, n int64, wait time.Duration, what string) {
	t.Helper()
	s, ok, err := c.AwaitStats(t.Context(), wait, statsPoll, func(s notifyapi.Stats) bool { return s.Subscribers == n })
	switch {
	case err != nil:
		t.Fatal(err)
	case !ok:
		t.Fatalf("%s: /stats counts %d subscribers after %v, want %d (%+v)", what, s.Subscribers, wait, n, s)
	}
}

// get reads path from Go, which must answer 200, and returns the body.
func get(t *testing.T, tg *scenario.Target, path string) string {
	t.Helper()
	resp, err := tg.Get(t.Context(), path, requestWait)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("GET %s: %d %q", path, resp.Status, scenario.Shorten(resp.Body))
	}
	return resp.Body
}

// moduleRoot is the directory of go.mod, above the test's package.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// A page is one tab of the page, named for the messages.
type page struct {
	t    *testing.T
	name string
	ctx  context.Context
}

// await polls the predicate js, a JavaScript expression, in the tab at
// each change of its DOM until it is true, and fails the test, with what
// the tab shows, if that takes longer than pageWait. (A background tab's
// timers may be slowed, its DOM changes are not.)
func (p *page) await(what, js string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, pageWait+time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(pageWait)))
	if errors.Is(err, chromedp.ErrPollingTimeout) {
		err = fmt.Errorf("not after %v", pageWait)
	}
	if err != nil {
		p.t.Fatalf("%s: waiting for %s: %v; the page shows %s", p.name, what, err, p.shows())
	}
}

// shows sums up what the tab shows, for a failure's message.
func (p *page) shows() string {
	ctx, cancel := context.WithTimeout(p.ctx, requestWait)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const text = (id) => document.getElementById(id).textContent.trim();
		const events = [...document.querySelectorAll("#events li")].map((li) => [...li.children].map((s) => s.textContent).join(" "));
		return "websocket: " + text("ws-state") + "; subscribers: " + text("stats-subscribers") + " " + text("stats-error") +
			"; status: " + text("status") + "; events: [" + events.join(", ") + "]";
	})()`))
	if err != nil {
		return "nothing readable (" + err.Error() + ")"
	}
	return s
}

// screenshot captures the whole page to path (see browsertest.Screenshot).
func (p *page) screenshot(path string) {
	p.t.Helper()
	browsertest.Screenshot(p.t, p.ctx, path)
}

// submit fills in the form's fields, by id, and presses its button.
func (p *page) submit(form string, fields map[string]string) {
	p.t.Helper()
	var steps []chromedp.Action[chromedp.Void]
	var typed []string
	for _, id := range slices.Sorted(maps.Keys(fields)) {
		steps = append(steps, chromedp.SetValue(chromedp.ID(id), fields[id]))
		typed = append(typed, id+"="+fields[id])
	}
	// Clear the status line first, so that the answer awaited is this
	// submit's, not the last one's.
	steps = append(steps,
		chromedp.Evaluate[chromedp.Void](`document.getElementById("status").textContent = ""`),
		chromedp.Click(chromedp.CSS("#"+form+" button[type=submit]"), chromedp.NodeVisible))
	browsertest.Do(p.t, p.ctx, fmt.Sprintf("%s: submitting %s (%s)", p.name, form, strings.Join(typed, ", ")), steps...)
}

// awaitStatus waits for the status line to show an answer that begins with
// prefix, a success (2xx) or not.
func (p *page) awaitStatus(ok bool, prefix string) {
	p.t.Helper()
	p.await(fmt.Sprintf("the status line to begin %q", prefix), fmt.Sprintf(
		`document.getElementById("status").dataset.ok === %q && document.getElementById("status").textContent.startsWith(%q)`,
		fmt.Sprint(ok), prefix))
}

// awaitEvent waits for the tab to list the event of seq.
func (p *page) awaitEvent(seq int64, kind string, id int64) {
	p.t.Helper()
	p.await(fmt.Sprintf("event %d (%s, resource %d)", seq, kind, id), fmt.Sprintf(
		`document.querySelector('#events li[data-seq="%d"][data-kind="%s"][data-id="%d"]') !== null`, seq, kind, id))
}

// awaitSubscribers waits for the tab's /stats to count n subscribers.
func (p *page) awaitSubscribers(n int64) {
	p.t.Helper()
	p.await(fmt.Sprintf("/stats to count %d subscribers", n), fmt.Sprintf(
		`document.getElementById("stats-subscribers").textContent === "%d"`, n))
}
