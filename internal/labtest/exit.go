package labtest

import (
	"os"
	"syscall"

	"concurrencylab/internal/scenario"
)

// Exit ends a test binary with its tests' status, as os.Exit does, but
// without the race detector's pause: a binary built with -race that exits
// cleanly first sleeps a second (GORACE's atexit_sleep_ms), in case a
// goroutine still running has a race to report. By the time m.Run
// returns, testing has already failed each test during which a race was
// reported, and reported any race after them, so the pause would only add
// a second to every package of go test -race ./... .
//
//	func TestMain(m *testing.M) { labtest.Exit(m.Run()) }
//
// or, with goleak: goleak.VerifyTestMain(m, goleak.Cleanup(labtest.Exit)).
func Exit(code int) {
	if code == 0 && scenario.RaceEnabled {
		syscall.Exit(0) // os.Exit(0) would end in the race runtime's pause
	}
	os.Exit(code)
}
