package labtest

import (
	"bytes"
	"context"
	"net/http"
)

// fetch sends one request without a body and returns the response, its
// body read whole and closed.
func fetch(ctx context.Context, client *http.Client, method, url string) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return nil, "", err
	}
	return send(client, req)
}

// send sends req and returns the response, its body read whole and closed.
func send(client *http.Client, req *http.Request) (*http.Response, string, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, err = body.ReadFrom(resp.Body)
	return resp, body.String(), err
}
