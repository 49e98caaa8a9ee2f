package labtest

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// ServeRecovering serves h on a loopback port until the test ends, as
// net/http serves by default: a handler's panic is recovered and logged.
// It returns the server's URL and what it logs ("http: panic serving ...").
// Cleanup closes the listener and every connection without waiting for the
// handlers, some of which a panic may have left hung for good
// (httptest.Server's Close, like Shutdown, would wait).
func ServeRecovering(t testing.TB, h http.Handler) (url string, logs *SyncBuffer) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	logs = &SyncBuffer{}
	srv := &http.Server{Handler: h, ErrorLog: log.New(logs, "", 0)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		<-served
	})
	return "http://" + ln.Addr().String(), logs
}

// Do sends one request with body (none if empty) on a connection of its
// own, giving up after wait, and returns the status and body of the answer.
// A request that gets no answer in time fails with context.DeadlineExceeded.
func Do(ctx context.Context, method, url, body string, wait time.Duration) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	resp, err := oneShotClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(answer), err
}

// oneShotClient opens a new connection for every request, so that a
// request whose connection the server closed (after a panic, or as it died)
// fails at once instead of being retried on another.
var oneShotClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
