package main

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// maxBatch is the most clients one join script takes.
const maxBatch = 64

// ErrClosed is the answer to a Join after Close.
var ErrClosed = errors.New("matchmaker closed")

// A joinRequest is one client's join, on its way to the joiner.
type joinRequest struct {
	w      *waiter
	id     string
	answer chan joined // room for one: the joiner sends without waiting
}

// A joiner is the goroutine that runs a replica's join scripts, one at a
// time, each for every client that has come since the last one began (up
// to maxBatch): under load, one script and one round trip pair or queue
// dozens of clients, each still in one atomic step, in the order they
// came. (The embedded Redis takes a couple of milliseconds to start any
// script, and runs one at a time: one script per client would queue
// hundreds of clients behind each other past the client's timeouts.)
type joiner struct {
	rdb      *redis.Client    // the matchmaker's
	requests chan joinRequest // join sends, unbuffered; run receives
	stop     chan struct{}    // closed by close
	done     chan struct{}    // closed when run returns
}

func startJoiner(rdb *redis.Client) *joiner {
	j := &joiner{rdb: rdb, requests: make(chan joinRequest), stop: make(chan struct{}), done: make(chan struct{})}
	go j.run()
	return j
}

// join runs the join script for w, whose client's id is id, and returns
// its answer. The script runs even if the client has gone meanwhile, so
// that its outcome is always known: Join then takes it out of the queue.
func (j *joiner) join(w *waiter, id string) joined {
	r := joinRequest{w: w, id: id, answer: make(chan joined, 1)}
	select {
	case j.requests <- r:
	case <-j.stop:
		return joined{err: ErrClosed}
	}
	return <-r.answer // run answers every request it receives
}

func (j *joiner) run() {
	defer close(j.done)
	for {
		var batch []joinRequest
		select {
		case r := <-j.requests:
			batch = append(batch, r)
		case <-j.stop:
			return
		}
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-j.requests:
				batch = append(batch, r)
			default:
				break more
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), scriptWait)
		answers, err := runJoin(ctx, j.rdb, batch)
		cancel()
		for i, r := range batch {
			if err != nil {
				r.answer <- joined{err: err}
			} else {
				r.answer <- answers[i]
			}
		}
	}
}

// close stops run once it has answered the batch it is running.
func (j *joiner) close() {
	close(j.stop)
	<-j.done
}
