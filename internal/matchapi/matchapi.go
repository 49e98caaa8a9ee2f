// Package matchapi is the matchmaker's contract: what every version of it
// answers over HTTP, and the Matchmaker interface behind the safe versions'
// shared handler. What checks a server against it (a client, the scenarios,
// the drive under load, the bad-input battery) is apart, in
// internal/matchcheck.
package matchapi

import (
	"context"
	"flag"
	"strconv"
	"time"

	"concurrencylab/internal/server"
)

// DefaultPairTimeout is how long a client waits for a peer before it gets a
// 408: a minute, as in the seed.
const DefaultPairTimeout = time.Minute

// MaxIDLen is the longest client id accepted, in bytes.
const MaxIDLen = 128

// PairIDHeader carries the pair id, the same for both members of a pair.
const PairIDHeader = "Pair-Id"

// A Match is what one member of a pair learns.
type Match struct {
	Peer   string // the other member's id
	PairID string // the same for both members, and for no other pair
}

// PairID names the nth pair a server has made.
func PairID(n int64) string { return strconv.FormatInt(n, 10) }

// Stats counts clients by outcome. Every client that asked for a peer is in
// exactly one of the last four counts, so a consistent snapshot balances:
// Requests == 2*Paired + TimedOut + Canceled + Waiting.
type Stats struct {
	Requests int64 `json:"requests"`  // clients that asked for a peer
	Waiting  int64 `json:"waiting"`   // waiting now
	Paired   int64 `json:"paired"`    // pairs made: two clients each
	TimedOut int64 `json:"timed_out"` // got no peer within the pair timeout (408)
	Canceled int64 `json:"canceled"`  // left before a peer came: gone, or the server shut down
}

// Balanced reports whether s accounts for every client exactly once.
func (s Stats) Balanced() bool {
	return s.Requests == 2*s.Paired+s.TimedOut+s.Canceled+s.Waiting
}

// A Matchmaker pairs clients two by two, in the order they come.
type Matchmaker interface {
	// Join waits for a peer for the client id and returns the pair. If ctx
	// ends first, Join takes the client out of the queue, counts it as
	// timed out (ctx's deadline passed) or canceled, and returns ctx.Err().
	// A client paired at the moment its ctx ends gets its pair: every
	// client has exactly one outcome, and no one is paired with a client
	// that has left.
	Join(ctx context.Context, id string) (Match, error)

	// Stats returns a consistent snapshot of the counts.
	Stats(ctx context.Context) (Stats, error)
}

// Flags registers a matchmaker's command line on fs: the server's flags
// (-addr, -v, -tls, -cert, -key) and -pair-timeout.
func Flags(fs *flag.FlagSet) (cfg *server.Config, pairTimeout *time.Duration) {
	cfg = server.Flags(fs)
	cfg.TLSFlags(fs)
	pairTimeout = fs.Duration("pair-timeout", DefaultPairTimeout, "how long a client waits for a peer before a 408")
	return cfg, pairTimeout
}
