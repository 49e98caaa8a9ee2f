package main

import "sync"

// Pipe carries events to one connection's goroutine, as the seed wrote it:
// unbuffered, so a send waits until that goroutine takes the event.
type Pipe chan string

// PipeSet is the seed's set of pipes, keyed by their address "to speed up a
// lookup process when deleting". Each method is safe on its own; what
// ForeachPipe does while it holds the lock is not.
type PipeSet struct {
	sync.Mutex
	Pipes map[*Pipe]*Pipe
}

func NewPipe() Pipe {
	return make(Pipe)
}

// NewPipeSet returns a pointer; the seed returned a PipeSet, a copy of its
// lock, which go vet rejects.
func NewPipeSet() *PipeSet {
	var newSet PipeSet
	newSet.Pipes = make(map[*Pipe]*Pipe)
	return &newSet
}

func (o *PipeSet) AddPipe(pipe *Pipe) {
	o.Lock()
	o.Pipes[pipe] = pipe
	o.Unlock()
}

// ForeachPipe calls f on every pipe with the lock held. The seed's f sends
// on the pipe: it waits, lock held, for each connection's goroutine.
func (o *PipeSet) ForeachPipe(f func(pipe Pipe)) {
	o.Lock()
	for k := range o.Pipes {
		f(*o.Pipes[k])
	}
	o.Unlock()
}

func (o *PipeSet) DeletePipe(pipe *Pipe) {
	o.Lock()
	delete(o.Pipes, pipe)
	o.Unlock()
}

// Len is the lab's, for /stats.
func (o *PipeSet) Len() int {
	o.Lock()
	defer o.Unlock()
	return len(o.Pipes)
}
