// This file is laid into 1_naive-race/matchmaker by a go test -overlay (see
// ../exercises_test.go), next to the channel-commands model answer's
// matchmaker.go and in place of the naive client.go and handler.go. It
// gives the naive main.go and tests what they call,
// newMatchmaker(pairTimeout) and what it returns, on top of the model
// answer's Matchmaker. It lives under testdata so that no build sees it
// alone.
package main

import (
	"time"

	"concurrencylab/internal/matchapi"
)

// matchmaker is the model answer's Matchmaker served by the shared
// handler, which brings ServeHTTP and Shutdown.
type matchmaker struct {
	*matchapi.Handler
	owner *Matchmaker
}

func newMatchmaker(pairTimeout time.Duration) *matchmaker {
	owner := NewMatchmaker()
	return &matchmaker{Handler: matchapi.NewHandler(owner, pairTimeout), owner: owner}
}

// Close stops the model answer's owner goroutine and waits for it.
func (m *matchmaker) Close() { m.owner.Close() }
