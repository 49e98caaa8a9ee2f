// Package place holds the latent bug that the panic-safety lab's servers
// share, so that one poison input shows each of them failing its own way.
//
// Names and ids may end in a place, "hits@home" or "alice@Home", and Fold
// gives the place's first letter in lower case, so that "hits@Home" and
// "hits@home" name the same thing.
//
// BUG, ON PURPOSE: a name with an empty place ("hits@") has no first
// letter, and Fold panics: slice bounds out of range [:1] with length 0.
// Called inside a critical section, that is a panic with a lock held. (Fold
// also folds a byte, not a letter: a place that starts with "É" comes out
// as broken UTF-8. That bug never panics, and is left alone.)
package place

import "strings"

// Fold returns s with the first letter of its place, the part after its
// last "@", in lower case.
func Fold(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return s
	}
	p := s[at+1:]
	return s[:at+1] + strings.ToLower(p[:1]) + p[1:]
}
