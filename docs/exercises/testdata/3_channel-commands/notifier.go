// This file is laid into 1_naive-race/notifier by a go test -overlay (see
// ../exercises_test.go), next to a model answer's hub.go and in place of the
// naive notifier.go and pipes.go. It gives the naive main.go and tests what
// they call, newNotifier(opts), on top of the model answer's Hub. It lives
// under testdata so that no build sees it alone.
package main

import "concurrencylab/internal/notifyapi"

// notifier is a model answer's Hub served by the shared handler, which
// brings ServeHTTP and Shutdown.
type notifier struct {
	*notifyapi.Handler
	hub notifyapi.Hub
}

func newNotifier(opts notifyapi.Options) *notifier {
	hub := NewHub()
	return &notifier{Handler: notifyapi.NewHandler(hub, opts), hub: hub}
}

// Close stops the model answer's hub goroutine, if it has one (the
// channel-commands answer does; the mutex answer has nothing to stop).
func (n *notifier) Close() {
	if owner, ok := n.hub.(interface{ Close() }); ok {
		owner.Close()
	}
}
