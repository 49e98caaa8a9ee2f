//go:build race

package matchapi

// raceEnabled reports whether this binary was built with -race (see
// matchLoad).
const raceEnabled = true
