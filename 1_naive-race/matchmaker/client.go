package main

import (
	"net/http"
	"sync"
)

// Client is one request waiting for a peer, as the seed wrote it: it carries
// its own ResponseWriter so that whoever pairs it can answer it.
type Client struct {
	addr          string
	pairID        string // the pair id, if this client waits and a peer takes it (set by its handler)
	respWriter    http.ResponseWriter
	peerMatchedCh chan struct{}
}

// ClientQueue is the seed's queue. Each method is safe on its own; what
// the handler does between two calls is not.
type ClientQueue struct {
	clients []Client
	mu      sync.Mutex
}

func NewClientQueue() *ClientQueue {
	return &ClientQueue{clients: []Client{}, mu: sync.Mutex{}}
}

func (q *ClientQueue) Enqueue(c Client) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.clients = append(q.clients, c)
}

func (q *ClientQueue) Dequeue() Client {
	q.mu.Lock()
	defer q.mu.Unlock()
	client := q.clients[0] // the seed's "<-- panicking here"
	q.clients = q.clients[1:]
	return client
}

// Remove is never called, as in the seed: a client that gives up stays in
// the queue, and the next arrival is paired with it.
func (q *ClientQueue) Remove(client Client) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, c := range q.clients {
		if c.addr == client.addr {
			q.clients = append(q.clients[:i], q.clients[i+1:]...)
			return
		}
	}
}

func (q *ClientQueue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.clients)
}
