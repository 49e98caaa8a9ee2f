//go:build unix

package childproc

import (
	"os"
	"syscall"
)

// ownGroup starts a process in a process group of its own, as a shell
// starts a job, so that a signal reaches everything it started (the
// server that `sh -c` or `go run` runs); where the system can, it also
// dies with this process, so that a harness or test killed outright
// leaves no server behind.
func ownGroup() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	dieWithParent(attr)
	return attr
}

// signalGroup sends sig to p's process group.
func signalGroup(p *os.Process, sig os.Signal) {
	if s, ok := sig.(syscall.Signal); ok {
		if err := syscall.Kill(-p.Pid, s); err == nil {
			return
		}
	}
	p.Signal(sig)
}
