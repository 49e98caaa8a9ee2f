package main

import (
	"strings"
	"sync"
)

// orders remembers which orders have been processed.
type orders struct {
	mu        sync.Mutex      // guards processed
	processed map[string]bool // ids of the orders processed; read and written only with mu held
}

func newOrders() *orders {
	return &orders{processed: make(map[string]bool)}
}

// process processes the order with the given id and records it as done.
// The processing is a stand-in: it works out the order's number.
func (o *orders) process(id string) {
	_ = orderNumber(id)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.processed[id] = true
}

// isProcessed reports whether the order with the given id has been processed.
func (o *orders) isProcessed(id string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.processed[id]
}

// orderNumber returns the number in an order id such as "order-17".
//
// BROKEN ON PURPOSE: it trusts the id to have a "-". For "oops", parts has
// one element and parts[1] panics: index out of range [1] with length 1.
func orderNumber(id string) string {
	parts := strings.Split(id, "-")
	return parts[1]
}
