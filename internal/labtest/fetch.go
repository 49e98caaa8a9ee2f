package labtest

import (
	"context"
	"io"
	"net/http"
)

// fetch sends one request and returns the response, its body read whole and
// closed.
func fetch(ctx context.Context, client *http.Client, method, url string) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return nil, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, string(body), err
}
