// Command counter serves named counters over HTTP (/set, /get, /inc) from a
// map that one manager goroutine owns: handlers send it commands on a
// channel, each with a reply channel, and wait for the answer.
//
// SAFE: only the manager can reach the map (it is declared inside the
// manager), so there is nothing to lock. Prove it:
//
//	go test -race ./3_channel-commands/counter
//
// or run it and hammer it: the count comes out exact.
//
//	go run ./3_channel-commands/counter &
//	go tool hey -n 20000 -c 200 "http://127.0.0.1:8000/inc?name=i"
//	curl "127.0.0.1:8000/get?name=i"    # i: 20000
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

// Store is the handlers' side of the manager goroutine: it holds channels
// only, never the counters.
type Store struct {
	cmds      chan<- command // handlers send; the manager receives
	stop      chan struct{}  // closed by Close to end the manager
	done      chan struct{}  // closed by the manager when it has returned
	closeOnce sync.Once      // Close closes stop once
}

type op int

const (
	setOp op = iota
	getOp
	incOp
)

// command is one request to the manager.
type command struct {
	op    op
	name  string
	val   int64       // setOp only
	reply chan result // made by newCommand with room for the one result
}

// newCommand returns a command whose reply channel has room for its result,
// so the manager can always answer and move on, even if the caller has gone.
func newCommand(op op, name string, val int64) command {
	return command{op: op, name: name, val: val, reply: make(chan result, 1)}
}

// result is the manager's answer to one command.
type result struct {
	val   int64 // getOp: the counter's value
	found bool  // false: no counter has that name (getOp, incOp)
	err   error // incOp: counterapi.ErrOverflow, the counter unchanged
}

// NewStore starts the manager goroutine, holding
// counterapi.InitialCounters. Close stops it.
func NewStore() *Store {
	cmds := make(chan command)
	s := &Store{cmds: cmds, stop: make(chan struct{}), done: make(chan struct{})}
	go manage(cmds, s.stop, s.done)
	return s
}

// manage owns the counters: it declares them, and nothing outside this
// function can reach them. It runs one command at a time until stop closes.
func manage(cmds <-chan command, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	counters := counterapi.InitialCounters()
	for {
		select {
		case <-stop:
			return
		case cmd := <-cmds:
			val, found := counters[cmd.name]
			switch cmd.op {
			case setOp:
				counters[cmd.name] = cmd.val
				cmd.reply <- result{found: true}
			case getOp:
				cmd.reply <- result{val: val, found: found}
			case incOp:
				if !found {
					cmd.reply <- result{}
					break
				}
				next, err := counterapi.Increment(val)
				counters[cmd.name] = next
				cmd.reply <- result{val: next, found: true, err: err}
			}
		}
	}
}

// Close stops the manager and waits until it has returned. Calls after
// Close return ErrClosed.
func (s *Store) Close() {
	s.closeOnce.Do(func() { close(s.stop) })
	<-s.done
}

// do hands cmd to the manager and returns its result. It gives up if ctx
// ends (the client has gone) or the store is closed before the manager takes
// the command; once taken, the answer comes at once.
func (s *Store) do(ctx context.Context, cmd command) (result, error) {
	select {
	case s.cmds <- cmd:
		return <-cmd.reply, nil
	case <-ctx.Done():
		return result{}, ctx.Err()
	case <-s.done:
		return result{}, ErrClosed
	}
}

func (s *Store) Set(ctx context.Context, name string, val int64) error {
	_, err := s.do(ctx, newCommand(setOp, name, val))
	return err
}

func (s *Store) Get(ctx context.Context, name string) (int64, error) {
	r, err := s.do(ctx, newCommand(getOp, name, 0))
	if err != nil {
		return 0, err
	}
	if !r.found {
		return 0, counterapi.ErrNotFound
	}
	return r.val, nil
}

func (s *Store) Inc(ctx context.Context, name string) error {
	r, err := s.do(ctx, newCommand(incOp, name, 0))
	if err != nil {
		return err
	}
	if !r.found {
		return counterapi.ErrNotFound
	}
	return r.err
}
