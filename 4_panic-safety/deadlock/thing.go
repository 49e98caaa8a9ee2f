package main

import (
	"slices"
	"sync"
)

// thing is the seed's MyShinyMetalThing: comments behind a mutex.
type thing struct {
	mu       sync.Mutex // guards comments
	comments []string   // read and written only with mu held
}

// newThing returns a thing holding one comment, "first!".
func newThing() *thing {
	return &thing{comments: []string{"first!"}}
}

// add appends a comment.
func (t *thing) add(text string) {
	t.mu.Lock()
	t.comments = append(t.comments, text)
	t.mu.Unlock()
}

// last returns the last n comments, oldest first.
//
// BROKEN ON PURPOSE: the unlock is not deferred. If n is more than the
// number of comments, the slice expression panics with the mutex held, the
// Unlock below never runs, and nothing ever unlocks it.
func (t *thing) last(n int) []string {
	t.mu.Lock()
	last := slices.Clone(t.comments[len(t.comments)-n:])
	t.mu.Unlock()
	return last
}
