// Package counterapi is the counter store's contract: the Store interface
// every version of the counter implements, its errors, and the HTTP handler
// they all share. The versions differ only in how their Store synchronizes,
// so a diff between two versions shows one idea.
//
// What checks a server against this contract (a client, the scenarios, the
// drive under load, the bad-input battery) is apart, in
// internal/countercheck.
package counterapi

import (
	"context"
	"errors"
	"math"
)

// Store holds named int64 counters. Every version of the counter implements
// it; only the synchronization differs.
//
// The context lets a store whose operations wait (the channel version waits
// for its owner goroutine) give up when the request is gone. Stores that
// never wait ignore it.
type Store interface {
	// Set creates the counter name, or overwrites it, with val.
	Set(ctx context.Context, name string, val int64) error
	// Get returns the counter's value, or ErrNotFound.
	Get(ctx context.Context, name string) (int64, error)
	// Inc adds one to an existing counter. It returns ErrNotFound for a
	// counter that does not exist and ErrOverflow, leaving the value as it
	// was, for a counter already at math.MaxInt64.
	Inc(ctx context.Context, name string) error
}

var (
	// ErrNotFound means no counter has that name.
	ErrNotFound = errors.New("counter not found")
	// ErrOverflow means the increment would pass math.MaxInt64.
	ErrOverflow = errors.New("counter would overflow int64")
)

// InitialCounters are the counters every store starts with, at zero, so the
// seed's load command (`ab -n 20000 -c 200 "127.0.0.1:8000/inc?name=i"`)
// works as written.
func InitialCounters() map[string]int64 {
	return map[string]int64{"i": 0, "j": 0}
}

// Increment returns v+1, or ErrOverflow when v is already math.MaxInt64.
// Stores call it inside their critical section, so the check and the write
// are one step.
func Increment(v int64) (int64, error) {
	if v == math.MaxInt64 {
		return v, ErrOverflow
	}
	return v + 1, nil
}
