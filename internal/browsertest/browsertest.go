//go:build lab

// Package browsertest drives Debian's Chromium, headless, for the tests of
// the lab's pages (github.com/chromedp/chromedp). Each test gets a browser
// of its own, with a fresh profile, that ends with the test.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"concurrencylab/internal/labtest"
)

// Wait bounds how long a test waits for a page to show what it should.
const Wait = 20 * time.Second

// Chromium is the browser's command: Debian's package chromium.
const Chromium = "chromium"

// New starts a headless Chromium for t and returns the context of its first
// tab, which Tab and chromedp.Run take. The browser and every tab close when
// the test ends. Where Chromium is not installed, the test is skipped, but
// fails in CI (CI=true).
func New(t testing.TB) context.Context {
	t.Helper()
	labtest.NeedCommand(t, Chromium, "apt-get install chromium")
	path, err := exec.LookPath(Chromium)
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()), // a fresh profile
		chromedp.WindowSize(1280, 800),
		// The flags that keep a headless Chromium to the page it is given
		// (some are among the defaults too): without the background-
		// networking ones it floods a closed network with connections that
		// are refused.
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// Start the browser now, so that a test's first wait is for its page.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}

// Tab opens another tab in the browser of ctx (from New). close closes it,
// as a user closes a tab; it is also closed when the test ends.
func Tab(t testing.TB, ctx context.Context) (tab context.Context, close func()) {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return tab, cancel
}

// Do runs steps in tab within Wait, and fails t, saying what it was doing,
// if they fail.
func Do(t testing.TB, tab context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, Wait)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// Get runs a in tab within Wait and returns its value, or fails t.
func Get[T any](t testing.TB, tab context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, Wait)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// Screenshot captures tab's whole page as a PNG. With LAB_SCREENSHOTS=1 it
// also writes it to path (relative to the test's package), which is how the
// screenshots in docs/ are made; otherwise the test only checks that it can.
func Screenshot(t testing.TB, tab context.Context, path string) []byte {
	t.Helper()
	// A tab's capture is of its viewport, which may be shorter than the
	// page: make the viewport as tall as the page first.
	size := Get(t, tab, "measuring the page",
		chromedp.Evaluate[[2]int64](`[window.innerWidth, document.documentElement.scrollHeight]`))
	Do(t, tab, "fitting the viewport to the page", chromedp.EmulateViewport(size[0], size[1]))
	return save(t, Get(t, tab, "taking a screenshot", chromedp.FullScreenshot(100)), path) // 100: a PNG
}

// ScreenshotViewport captures what tab's viewport shows, for a page
// wider than a picture can be; with LAB_SCREENSHOTS=1 it writes it to path,
// as Screenshot does.
func ScreenshotViewport(t testing.TB, tab context.Context, path string) []byte {
	t.Helper()
	return save(t, Get(t, tab, "taking a screenshot", chromedp.CaptureScreenshot()), path)
}

func save(t testing.TB, png []byte, path string) []byte {
	t.Helper()
	if len(png) == 0 {
		t.Fatal("the screenshot is empty")
	}
	if os.Getenv("LAB_SCREENSHOTS") == "1" {
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
	}
	return png
}
