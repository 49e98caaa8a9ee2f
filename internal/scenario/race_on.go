//go:build race

package scenario

// RaceEnabled reports whether this binary was built with -race: the race
// detector slows every request several times over, and scenarios under load
// size their loads by it.
const RaceEnabled = true
