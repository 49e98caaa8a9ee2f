package scenario

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
)

// A Request is one HTTP request of a scenario.
type Request struct {
	Method string // GET if empty
	Path   string // with its query
	Body   string // none if empty
	Header http.Header
	// Wait, if set, bounds the request: one with no answer within Wait is
	// a HungRequest error.
	Wait time.Duration
}

// A Response is a request's answer, its body read whole.
type Response struct {
	Status int
	Body   string
	Header http.Header
}

// Line is the body without its final newline: the one line of a plain-text
// answer.
func (r Response) Line() string { return strings.TrimSuffix(r.Body, "\n") }

// Do sends r to the target and reads the answer.
func (tg *Target) Do(ctx context.Context, r Request) (Response, error) {
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	if r.Wait > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.Wait)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, method, tg.URL+r.Path, strings.NewReader(r.Body))
	if err != nil {
		return Response{}, err
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	if r.Body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := tg.Client.Do(req)
	if err == nil {
		defer resp.Body.Close()
		var body bytes.Buffer
		_, err = body.ReadFrom(resp.Body)
		if err == nil {
			return Response{Status: resp.StatusCode, Body: body.String(), Header: resp.Header}, nil
		}
	}
	if r.Wait > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return Response{}, HungRequest.Errorf("%s %s got no answer within %v", method, Shorten(r.Path), r.Wait)
	}
	return Response{}, err
}

// Get sends a GET for path, bounded by wait (none if 0).
func (tg *Target) Get(ctx context.Context, path string, wait time.Duration) (Response, error) {
	return tg.Do(ctx, Request{Path: path, Wait: wait})
}

// Shorten cuts a long path or body to 40 bytes, for a message.
func Shorten(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// AnswerWait bounds a request that a server under no load answers at once:
// one with no answer by then has hung.
const AnswerWait = 5 * time.Second

// Await calls check every poll until it reports true or an error, or until
// wait has passed, and returns what it last reported: false, nil means
// wait passed.
func Await(ctx context.Context, wait, poll time.Duration, check func() (bool, error)) (bool, error) {
	deadline := time.Now().Add(wait)
	for {
		ok, err := check()
		if ok || err != nil {
			return ok, err
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(poll):
		}
	}
}
