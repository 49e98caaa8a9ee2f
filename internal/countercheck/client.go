package countercheck

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"concurrencylab/internal/counterapi"
	"concurrencylab/internal/scenario"
)

// A Client speaks the counter contract (see counterapi.NewHandler) to a
// target, and checks every answer against it: the status and the one line
// the contract gives. The test suite and the harness both use it.
type Client struct {
	tg   *scenario.Target
	wait time.Duration
}

// NewClient returns a client of tg whose requests each get an answer
// within wait, or fail as a HungRequest (no bound if wait is 0).
func NewClient(tg *scenario.Target, wait time.Duration) *Client {
	return &Client{tg: tg, wait: wait}
}

// Set sets the counter name to val: GET /set answered 200 "ok".
func (c *Client) Set(ctx context.Context, name string, val int64) error {
	return c.Expect(ctx, http.MethodGet, "/set?"+Query(name, strconv.FormatInt(val, 10)), http.StatusOK, "ok")
}

// Inc adds one to the counter name: GET /inc answered 200 "ok". A 404 is
// a StatusError that wraps counterapi.ErrNotFound, a 409 one that wraps
// counterapi.ErrOverflow.
func (c *Client) Inc(ctx context.Context, name string) error {
	return c.Expect(ctx, http.MethodGet, "/inc?"+Query(name, ""), http.StatusOK, "ok")
}

// Get returns the counter's value: GET /get answered 200 "name: value".
// A 404 is a StatusError that wraps counterapi.ErrNotFound.
func (c *Client) Get(ctx context.Context, name string) (int64, error) {
	path := "/get?" + Query(name, "")
	resp, err := c.do(ctx, http.MethodGet, path)
	if err != nil {
		return 0, err
	}
	statusErr := &StatusError{Method: http.MethodGet, Path: path, Status: resp.Status, Body: resp.Body,
		Want: fmt.Sprintf("200 %q", name+": V")}
	if resp.Status != http.StatusOK || !strings.HasSuffix(resp.Body, "\n") {
		return 0, statusErr
	}
	val, err := ParseCount(name, resp.Line())
	if err != nil {
		return 0, statusErr
	}
	return val, nil
}

// Expect sends one request and checks that it is answered with status and
// the one line line: the body must be line and a newline, exactly. Any
// other answer is a StatusError.
func (c *Client) Expect(ctx context.Context, method, path string, status int, line string) error {
	resp, err := c.do(ctx, method, path)
	if err != nil {
		return err
	}
	if resp.Status != status || resp.Body != line+"\n" {
		return &StatusError{Method: method, Path: path, Status: resp.Status, Body: resp.Body,
			Want: fmt.Sprintf("%d %q", status, line)}
	}
	return nil
}

func (c *Client) do(ctx context.Context, method, path string) (scenario.Response, error) {
	resp, err := c.tg.Do(ctx, scenario.Request{Method: method, Path: path, Wait: c.wait})
	if err != nil {
		return resp, fmt.Errorf("%s %s: %w", method, scenario.Shorten(path), err)
	}
	return resp, nil
}

// A StatusError is an answer other than the one the contract gives.
type StatusError struct {
	Method, Path string
	Status       int
	Body         string // as it came
	Want         string // the answer the contract gives: `200 "ok"`
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s answered %d %q, want %s",
		e.Method, scenario.Shorten(e.Path), e.Status, scenario.Shorten(e.Body), e.Want)
}

// Unwrap is counterapi.ErrNotFound for a 404, counterapi.ErrOverflow for a 409, or nil.
func (e *StatusError) Unwrap() error {
	switch e.Status {
	case http.StatusNotFound:
		return counterapi.ErrNotFound
	case http.StatusConflict:
		return counterapi.ErrOverflow
	}
	return nil
}

// ParseCount reads the line of a /get answer, "name: value", and returns
// the value. The value must be written as strconv writes it.
func ParseCount(name, line string) (int64, error) {
	v, found := strings.CutPrefix(line, name+": ")
	if !found {
		return 0, fmt.Errorf("not a count of %s: %q", scenario.Shorten(name), scenario.Shorten(line))
	}
	val, err := strconv.ParseInt(v, 10, 64)
	if err != nil || strconv.FormatInt(val, 10) != v {
		return 0, fmt.Errorf("not a count of %s: %q", scenario.Shorten(name), scenario.Shorten(line))
	}
	return val, nil
}

// Query encodes name and, if not empty, val as a query string:
// "name=N&val=V".
func Query(name, val string) string {
	q := "name=" + url.QueryEscape(name)
	if val != "" {
		q += "&val=" + url.QueryEscape(val)
	}
	return q
}
