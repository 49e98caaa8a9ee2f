// Command counter serves named counters over HTTP (/set, /get, /inc) from a
// map that one owner goroutine holds: handlers send it set, get and inc
// commands, each on a channel of its own and with a reply channel, and wait
// for the answer.
//
// SAFE: only the owner can reach the map (it is declared inside the
// owner), and it runs one command at a time, so each command's
// read-check-write is one step and no update is lost. Prove it:
//
//	go test -race ./3_channel-commands/counter
//
// or run it and hammer it: the count comes out exact.
//
//	go run ./3_channel-commands/counter &
//	go tool hey -n 20000 -c 200 "http://127.0.0.1:8000/inc?name=i"
//	curl "127.0.0.1:8000/get?name=i"    # i: 20000
//	kill %1                             # stops go run and the server with it
//
// Compare with the mutex version: diff 2_mutex/counter 3_channel-commands/counter.
package main

import (
	"context"
	"errors"
	"sync"

	"concurrencylab/internal/counterapi"
)

// ErrClosed is returned by calls made after Close.
var ErrClosed = errors.New("counter store closed")

// Store holds the channels to the owner goroutine, never the counters. A
// call gives up if ctx ends (the client has gone) or the owner has stopped
// before the owner takes its command; once taken, the answer comes at once.
type Store struct {
	sets      chan set      // Set sends; the owner receives
	gets      chan get      // Get sends; the owner receives
	incs      chan inc      // Inc sends; the owner receives
	stop      chan struct{} // closed by Close to end the owner
	done      chan struct{} // closed by the owner when it has returned
	closeOnce sync.Once     // Close closes stop once
}

// set asks the owner to set the counter name to val.
type set struct {
	name  string
	val   int64
	reply chan struct{} // sent once the counter is set
}

// get asks the owner for the value of the counter name.
type get struct {
	name  string
	reply chan getReply
}

type getReply struct {
	val   int64
	found bool // false: no counter has that name
}

// inc asks the owner to add one to the counter name.
type inc struct {
	name  string
	reply chan incReply
}

type incReply struct {
	found bool  // false: no counter has that name
	err   error // counterapi.ErrOverflow, the counter unchanged
}

// newSet, newGet and newInc give each command a reply channel with room for
// its answer, so the owner never waits for a caller, even one that has gone.
func newSet(name string, val int64) set {
	return set{name: name, val: val, reply: make(chan struct{}, 1)}
}

func newGet(name string) get { return get{name: name, reply: make(chan getReply, 1)} }

func newInc(name string) inc { return inc{name: name, reply: make(chan incReply, 1)} }

// NewStore starts the owner goroutine, holding counterapi.InitialCounters.
// Close stops it.
func NewStore() *Store {
	s := &Store{
		sets: make(chan set), gets: make(chan get), incs: make(chan inc),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	go s.run()
	return s
}

// run is the owner goroutine. It declares the counters, so nothing else can
// reach them, and runs one command at a time until stop closes.
func (s *Store) run() {
	defer close(s.done)
	counters := counterapi.InitialCounters()
	for {
		select {
		case <-s.stop:
			return
		case c := <-s.sets:
			counters[c.name] = c.val
			c.reply <- struct{}{}
		case c := <-s.gets:
			val, found := counters[c.name]
			c.reply <- getReply{val: val, found: found}
		case c := <-s.incs:
			val, found := counters[c.name]
			next, err := counterapi.Increment(val)
			if found && err == nil {
				counters[c.name] = next
			}
			c.reply <- incReply{found: found, err: err}
		}
	}
}

// Close stops the owner and waits until it has returned. Calls after Close
// return ErrClosed.
func (s *Store) Close() {
	s.closeOnce.Do(func() { close(s.stop) })
	<-s.done
}

func (s *Store) Set(ctx context.Context, name string, val int64) error {
	c := newSet(name, val)
	select {
	case s.sets <- c:
		<-c.reply
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return ErrClosed
	}
}

func (s *Store) Get(ctx context.Context, name string) (int64, error) {
	c := newGet(name)
	select {
	case s.gets <- c:
		r := <-c.reply
		if !r.found {
			return 0, counterapi.ErrNotFound
		}
		return r.val, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-s.done:
		return 0, ErrClosed
	}
}

func (s *Store) Inc(ctx context.Context, name string) error {
	c := newInc(name)
	select {
	case s.incs <- c:
		r := <-c.reply
		if !r.found {
			return counterapi.ErrNotFound
		}
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return ErrClosed
	}
}
