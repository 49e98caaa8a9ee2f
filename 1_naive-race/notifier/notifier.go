// Command notifier is a REST store of resources that announces every change
// to every websocket subscriber (see internal/notifyapi). This is the
// seed's design, kept as it was written: a mutex-guarded set of unbuffered
// channels ("pipes"), one per connection.
//
// BROKEN ON PURPOSE, the way the seed found and worse:
//
//   - A subscriber that leaves is never removed. Each connection's
//     goroutine waits for an event or for CloseNotify, which never fires
//     once the upgrade has hijacked the connection: net/http no longer
//     reads it. The goroutine and its pipe stay, and /stats counts the
//     subscriber, until an event is written to the dead socket and the
//     write fails (on Linux, the second event after the close).
//   - Then publishing can hang for good. The publisher sends to every pipe
//     with the lock held. The goroutine whose write failed goes to delete
//     its pipe, and waits for that lock; if another publish has taken it
//     first, that publish waits for the goroutine to take its event, and
//     the goroutine waits for the lock: every later change, and /stats,
//     hang with them.
//   - A subscriber that stops reading (a frozen tab, a vanished network)
//     hangs every publish once its socket's buffers are full: its
//     goroutine blocks in a write with no deadline, and the next send to its
//     pipe never completes.
//
// See it:
//
//	go run ./1_naive-race/notifier &
//	go run ./internal/subscribe      # in two more terminals; then Ctrl-C one
//	curl 127.0.0.1:8000/stats        # still 2 subscribers
//	go tool hey -n 200 -c 8 -t 2 -m POST -d '{}' http://127.0.0.1:8000/resources   # hangs, often
//	kill %1                          # stops go run and the server with it
//
// With a subscriber that never reads (go run ./internal/subscribe -stall),
// a steady load of changes hangs it every time, once the buffers are full.
// Prove it all with: go test ./1_naive-race/notifier
//
// Because it keeps the seed's own design (pipes, and a handler of its own),
// diff 1_naive-race/notifier 2_mutex/notifier is a rewrite, not one idea:
// read this version for its bugs. The diffs that teach start at the fix:
// diff 2_mutex/notifier 3_channel-commands/notifier (the lock becomes an
// owner goroutine) and diff 2_mutex/notifier/hub.go 5_redis/notifier/fanout.go
// (each replica's hub, fed from Redis).
package main

import (
	"context"
	"net/http"
	"sync/atomic"

	"github.com/gorilla/websocket"

	"concurrencylab/internal/notifyapi"
)

// notifier is the seed's server: its pipes, and the lab's contract around
// them (the resources, the origin check, /stats).
type notifier struct {
	pipes     *PipeSet
	upgrader  *websocket.Upgrader
	resources *notifyapi.Resources
	router    http.Handler

	// The counts for /stats; the seed had none. They are atomic so that
	// they add no race of their own.
	published, delivered atomic.Int64

	// onShutdown, if set, begins a graceful shutdown: main.go hands it to
	// the server (server.Config.OnShutdown), and the tests run
	// ShutdownSaysGoodbye with it. The seed has none, so it is nil: its
	// subscribers are cut off when the process exits, and the tests skip
	// that scenario. A fix that says goodbye to its subscribers sets it.
	onShutdown func()
}

func newNotifier(opts notifyapi.Options) *notifier {
	n := &notifier{pipes: NewPipeSet(), upgrader: notifyapi.NewUpgrader(opts)}
	n.resources = notifyapi.NewResources(n.publish)
	n.router = notifyapi.NewRouter(n.subscribe, n.resources, n.stats)
	return n
}

func (n *notifier) ServeHTTP(w http.ResponseWriter, r *http.Request) { n.router.ServeHTTP(w, r) }

// Close stops nothing: the seed starts no goroutine of its own (each
// connection's goroutine is net/http's). The tests call it at the end of
// every scenario, so that a fix whose state an owner goroutine holds stops
// that goroutine here, and waits for it to return.
func (n *notifier) Close() {}

// publish is the seed's Create: it goes through the whole PipeSet, sending
// the event to each pipe.
func (n *notifier) publish(e notifyapi.Event) error {
	msg := string(e.JSON())
	n.published.Add(1)
	n.pipes.ForeachPipe(func(pipe Pipe) {
		pipe <- msg
	})
	return nil
}

// subscribe is the seed's websocket handler: it forwards what comes on its
// pipe to the connection until a write fails or CloseNotify fires.
func (n *notifier) subscribe(w http.ResponseWriter, r *http.Request) {
	conn, err := n.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetReadLimit(notifyapi.MaxFrameBytes) // the contract's; nothing here reads anyway

	pipe := NewPipe()
	// The request logger (-v) wraps w in a writer without CloseNotify; a nil
	// channel never fires either, which is what CloseNotify's does here.
	var quit <-chan bool
	if cn, ok := w.(http.CloseNotifier); ok {
		quit = cn.CloseNotify()
	}
	n.pipes.AddPipe(&pipe)

	for {
		select {
		case msg := <-pipe:
			if err := conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
				goto egress
			}
			n.delivered.Add(1)
		case <-quit:
			goto egress
		}
	}
egress:
	n.pipes.DeletePipe(&pipe)
}

func (n *notifier) stats(context.Context) (notifyapi.Stats, error) {
	return notifyapi.Stats{
		Subscribers: int64(n.pipes.Len()),
		Published:   n.published.Load(),
		Delivered:   n.delivered.Load(),
	}, nil
}
