//go:build unix

package childproc

import (
	"os"
	"syscall"
)

// ownGroup starts a process in a process group of its own, as a shell
// starts a job, so that a signal reaches everything it started (the
// server that `sh -c` or `go run` runs).
func ownGroup() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// signalGroup sends sig to p's process group.
func signalGroup(p *os.Process, sig os.Signal) {
	if s, ok := sig.(syscall.Signal); ok {
		if err := syscall.Kill(-p.Pid, s); err == nil {
			return
		}
	}
	p.Signal(sig)
}
