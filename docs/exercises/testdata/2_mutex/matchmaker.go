// This file is laid into 1_naive-race/matchmaker by a go test -overlay (see
// ../exercises_test.go), next to a model answer's matchmaker.go and in place
// of the naive client.go and handler.go. It gives the naive main.go and
// tests what they call, newMatchmaker(pairTimeout), on top of the model
// answer's Matchmaker. It lives under testdata so that no build sees it
// alone.
package main

import (
	"time"

	"concurrencylab/internal/matchapi"
)

// matchmaker is a model answer's Matchmaker served by the shared handler,
// which brings ServeHTTP and Shutdown.
type matchmaker struct {
	*matchapi.Handler
	model matchapi.Matchmaker
}

func newMatchmaker(pairTimeout time.Duration) *matchmaker {
	model := NewMatchmaker()
	return &matchmaker{Handler: matchapi.NewHandler(model, pairTimeout), model: model}
}

// Close stops the model answer's owner goroutine, if it has one (the
// channel-commands answer does; the mutex answer has nothing to stop).
func (m *matchmaker) Close() {
	if owner, ok := m.model.(interface{ Close() }); ok {
		owner.Close()
	}
}
