// This file is laid into 1_naive-race/notifier by a go test -overlay (see
// ../../exercises_test.go), next to the mutex answer's hub.go and in place
// of the naive notifier.go and pipes.go. It gives the naive main.go and
// tests what they call, newNotifier(opts) and its Close and onShutdown, on
// top of the answer's Hub. It lives under testdata so that no build sees
// it alone.
package main

import "concurrencylab/internal/notifyapi"

// notifier is the mutex answer's Hub served by the shared handler, which
// brings ServeHTTP; its Shutdown says goodbye to the subscribers.
type notifier struct {
	*notifyapi.Handler
	onShutdown func()
}

func newNotifier(opts notifyapi.Options) *notifier {
	h := notifyapi.NewHandler(NewHub(), opts)
	return &notifier{Handler: h, onShutdown: h.Shutdown}
}

// Close stops nothing: the mutex answer starts no goroutine of its own.
func (n *notifier) Close() {}
