//go:build lab

package notifyapi

import (
	"flag"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOriginCheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		allow  []string
		origin string
		want   bool
	}{
		{"no origin: not a browser page", nil, "", true},
		{"the server's own origin", nil, "http://lab.test:8000", true},
		{"its own, in other case", nil, "http://LAB.test:8000", true},
		{"its host on another port", nil, "http://lab.test:9000", false},
		{"another site", nil, "http://elsewhere.example", false},
		{"not a URL", nil, "::", false},
		{"another site, allowed", []string{"http://elsewhere.example"}, "http://elsewhere.example", true},
		{"another site, not the one allowed", []string{"http://elsewhere.example"}, "http://third.example", false},
		{"any site, allowed", []string{"*"}, "http://third.example", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://lab.test:8000/ws", nil)
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			assert.Equal(t, tc.want, Options{AllowOrigins: tc.allow}.allowed(r))
		})
	}
}

func TestAllowOriginFlag(t *testing.T) {
	fs := flag.NewFlagSet("notifier", flag.ContinueOnError)
	_, opts := Flags(fs)
	require.NoError(t, fs.Parse([]string{"-allow-origin", "https://a.example, https://b.example", "-allow-origin=*"}))
	assert.Equal(t, []string{"https://a.example", "https://b.example", "*"}, opts.AllowOrigins)

	fs = flag.NewFlagSet("notifier", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	Flags(fs)
	assert.ErrorContains(t, fs.Parse([]string{"-allow-origin", "https://a.example,"}), "empty origin")
}
