// This file is laid into 1_naive-race/matchmaker by a go test -overlay (see
// ../exercises_test.go), next to the mutex model answer's matchmaker.go
// and in place of the naive client.go and handler.go. It gives the naive
// main.go and tests what they call, newMatchmaker(pairTimeout) and what it
// returns, on top of the model answer's Matchmaker. It lives under
// testdata so that no build sees it alone.
package main

import (
	"time"

	"concurrencylab/internal/matchapi"
)

// matchmaker is the model answer's Matchmaker served by the shared
// handler, which brings ServeHTTP and Shutdown.
type matchmaker struct {
	*matchapi.Handler
}

func newMatchmaker(pairTimeout time.Duration) *matchmaker {
	return &matchmaker{Handler: matchapi.NewHandler(NewMatchmaker(), pairTimeout)}
}

// Close stops nothing: the mutex answer starts no goroutine.
func (m *matchmaker) Close() {}
