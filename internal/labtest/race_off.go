//go:build !race

package labtest

// RaceEnabled reports whether this test binary was built with -race.
const RaceEnabled = false
