//go:build unix

package doctor

import "syscall"

// openFilesLimit is how many files this process may open: the soft limit,
// which Go raised to the hard one at start-up (capped on macOS), as it
// does for every Go program of the lab.
func openFilesLimit() (limit uint64, ok bool, err error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, true, err
	}
	return uint64(rl.Cur), true, nil
}
