// Command counter serves named counters over HTTP (/set, /get, /inc) from a
// map that one owner goroutine holds: handlers send it commands on
// channels, each with a reply channel, and wait for the answer.
//
// SAFE: only the owner can reach the map (it is declared inside the
// owner), so there is nothing to lock. Prove it:
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

// Store is the handlers' side of the owner goroutine: it holds channels
// only, never the counters.
type Store struct {
	commands  chan<- command // Set, Get and Inc send; the owner receives
	stop      chan struct{}  // closed by Close to end the owner
	done      chan struct{}  // closed by the owner when it has returned
	closeOnce sync.Once      // Close closes stop once
}

// A command is a set, a get or an inc. The three share one channel, so
// that the owner waits on two channels, not four: a select costs more with
// every case it has, and the counter's commands are the cheapest in the
// lab.
type command interface{ isCommand() }

func (set) isCommand() {}
func (get) isCommand() {}
func (inc) isCommand() {}

// set asks the owner to set the counter name to val.
type set struct {
	name  string
	val   int64
	reply chan struct{} // room for one: sent once the counter is set
}

// get asks the owner for the value of the counter name.
type get struct {
	name  string
	reply chan getReply // room for one
}

type getReply struct {
	val   int64 // the counter's value
	found bool  // false: no counter has that name
}

// inc asks the owner to add one to the counter name.
type inc struct {
	name  string
	reply chan incReply // room for one
}

type incReply struct {
	found bool  // false: no counter has that name
	err   error // counterapi.ErrOverflow, the counter unchanged
}

// newSet, newGet and newInc return a command whose reply channel has room
// for its answer, so the owner can always answer and move on, even if the
// caller has gone.
func newSet(name string, val int64) set {
	return set{name: name, val: val, reply: make(chan struct{}, 1)}
}

func newGet(name string) get { return get{name: name, reply: make(chan getReply, 1)} }

func newInc(name string) inc { return inc{name: name, reply: make(chan incReply, 1)} }

// NewStore starts the owner goroutine, holding
// counterapi.InitialCounters. Close stops it.
func NewStore() *Store {
	commands := make(chan command)
	s := &Store{commands: commands, stop: make(chan struct{}), done: make(chan struct{})}
	go own(commands, s.stop, s.done)
	return s
}

// own is the owner goroutine: it declares the counters, and nothing outside
// this function can reach them. It runs one command at a time until stop
// closes.
func own(commands <-chan command, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	counters := counterapi.InitialCounters()
	for {
		var cmd command
		select {
		case <-stop:
			return
		case cmd = <-commands:
		}
		switch cmd := cmd.(type) {
		case set:
			counters[cmd.name] = cmd.val
			cmd.reply <- struct{}{}
		case get:
			val, found := counters[cmd.name]
			cmd.reply <- getReply{val: val, found: found}
		case inc:
			val, found := counters[cmd.name]
			if !found {
				cmd.reply <- incReply{}
				break
			}
			next, err := counterapi.Increment(val)
			counters[cmd.name] = next
			cmd.reply <- incReply{found: true, err: err}
		}
	}
}

// Close stops the owner and waits until it has returned. Calls after Close
// return ErrClosed.
func (s *Store) Close() {
	s.closeOnce.Do(func() { close(s.stop) })
	<-s.done
}

// send hands cmd to the owner on cmds. It gives up if ctx ends (the client
// has gone) or the owner is done before the owner takes cmd; once taken, the
// answer comes at once.
func send[C any](ctx context.Context, cmds chan<- C, cmd C, done <-chan struct{}) error {
	select {
	case cmds <- cmd:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-done:
		return ErrClosed
	}
}

func (s *Store) Set(ctx context.Context, name string, val int64) error {
	cmd := newSet(name, val)
	if err := send(ctx, s.commands, command(cmd), s.done); err != nil {
		return err
	}
	<-cmd.reply
	return nil
}

func (s *Store) Get(ctx context.Context, name string) (int64, error) {
	cmd := newGet(name)
	if err := send(ctx, s.commands, command(cmd), s.done); err != nil {
		return 0, err
	}
	r := <-cmd.reply
	if !r.found {
		return 0, counterapi.ErrNotFound
	}
	return r.val, nil
}

func (s *Store) Inc(ctx context.Context, name string) error {
	cmd := newInc(name)
	if err := send(ctx, s.commands, command(cmd), s.done); err != nil {
		return err
	}
	r := <-cmd.reply
	if !r.found {
		return counterapi.ErrNotFound
	}
	return r.err
}
