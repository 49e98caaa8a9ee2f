// This file is laid into 1_naive-race/counter by a go test -overlay (see
// ../exercises_test.go), next to the mutex model answer's store.go in place
// of the naive one. It gives the naive tests what they call on top of the
// answer: Close, which the mutex store does not need, since it starts no
// goroutine. (The channel-commands answer has a Close of its own, which
// stops its owner goroutine, and needs no adapter.) It lives under testdata
// so that no build sees it alone.
package main

// Close stops nothing: the mutex store has no goroutine.
func (s *Store) Close() {}
