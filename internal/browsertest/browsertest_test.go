//go:build lab

package browsertest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"

	"concurrencylab/internal/browsertest"
)

// The browser loads a page from 127.0.0.1 in two tabs, and screenshots it.
func TestBrowserLoadsALocalPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>t</title><h1 id="x">hello</h1><script>document.getElementById("x").textContent += ", script"</script>`)
	}))
	defer srv.Close()
	ctx := browsertest.New(t)
	browsertest.Do(t, ctx, "loading the page", chromedp.Navigate(srv.URL))
	assert.Equal(t, "hello, script", browsertest.Get(t, ctx, "reading it", chromedp.Text("#x")))

	tab, closeTab := browsertest.Tab(t, ctx)
	browsertest.Do(t, tab, "loading it in a second tab", chromedp.Navigate(srv.URL))
	assert.Equal(t, "hello, script", browsertest.Get(t, tab, "reading it there", chromedp.Text("#x")))
	closeTab()

	png := browsertest.Screenshot(t, ctx, "unused.png")
	assert.Equal(t, "\x89PNG", string(png[:4]))
}
