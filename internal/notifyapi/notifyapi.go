// Package notifyapi is the websocket notifier's contract: a small REST store
// of resources whose every change is announced to every websocket
// subscriber, what every version of it answers over HTTP, and the Hub
// interface behind the safe versions' shared handler. What checks a server
// against it (a client, the scenarios, the drive under load, the bad-input
// battery) is apart, in internal/notifycheck.
package notifyapi

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"

	"concurrencylab/internal/server"
)

// MaxBodyBytes is the largest resource body accepted, in bytes; a larger
// one gets a 413.
const MaxBodyBytes = 64 << 10

// Event kinds.
const (
	Created  = "created"
	Modified = "modified"
)

// An Event announces one change to the resources. Seq numbers the changes,
// 1, 2, 3..., in the order they happened: a subscriber that misses none
// sees every seq once, in order.
type Event struct {
	Event string `json:"event"` // Created or Modified
	ID    int64  `json:"id"`    // the resource's id
	Seq   int64  `json:"seq"`   // this change's place among all changes
}

// JSON is the event as subscribers receive it, one websocket text message.
func (e Event) JSON() []byte {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err) // an Event is three plain fields: it always marshals
	}
	return b
}

// Stats counts subscribers and what was sent to them.
type Stats struct {
	Subscribers int64 `json:"subscribers"` // connected now
	Published   int64 `json:"published"`   // events published
	Delivered   int64 `json:"delivered"`   // event messages written to subscribers' connections
	Dropped     int64 `json:"dropped"`     // subscribers disconnected because they fell too far behind
}

// A Hub keeps the set of subscribers and fans each event out to them. The
// safe versions differ only in how they implement it.
type Hub interface {
	// Register adds s, which starts receiving every event published from
	// then on. It fails once the hub has shut down.
	Register(s *Subscriber) error

	// Unregister removes s if it is still there. It is called when s's
	// connection has ended, whether the hub dropped s first or not.
	Unregister(s *Subscriber)

	// Publish offers msg to every subscriber, in the order Publish is
	// called. It never waits for a subscriber: one whose queue is full is
	// dropped (removed, its queue ended, counted in Stats.Dropped).
	Publish(msg []byte) error

	// Delivered counts one message written to a subscriber's connection.
	Delivered()

	// Stats returns a consistent snapshot of the counts.
	Stats(ctx context.Context) (Stats, error)

	// Shutdown removes every subscriber, saying goodbye to each, and
	// refuses new ones.
	Shutdown()
}

// Options are the notifier's settings beyond the server's own.
type Options struct {
	// AllowOrigins lists the web origins ("https://example.com") whose
	// pages may subscribe, besides the server's own; "*" allows any.
	AllowOrigins []string
}

// Flags registers a notifier's command line on fs: the server's flags
// (-addr, -v) and -allow-origin.
func Flags(fs *flag.FlagSet) (*server.Config, *Options) {
	cfg := server.Flags(fs)
	opts := &Options{}
	fs.Func("allow-origin", "a web origin whose pages may subscribe besides the server's own, such as https://example.com, or * for any (repeat the flag, or separate with commas)",
		func(s string) error {
			for origin := range strings.SplitSeq(s, ",") {
				origin = strings.TrimSpace(origin)
				if origin == "" {
					return fmt.Errorf("empty origin in %q", s)
				}
				opts.AllowOrigins = append(opts.AllowOrigins, origin)
			}
			return nil
		})
	return cfg, opts
}

// ErrShuttingDown is what a hub's Register returns after Shutdown.
var ErrShuttingDown = errors.New("server shutting down")
