//go:build !race

package notifyapi

// raceEnabled reports whether this binary was built with -race, which
// slows every request several times over: the scenarios' loads are halved.
const raceEnabled = false
