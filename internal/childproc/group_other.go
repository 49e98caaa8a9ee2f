//go:build !unix

package childproc

import (
	"os"
	"syscall"
)

func ownGroup() *syscall.SysProcAttr { return nil }

func signalGroup(p *os.Process, sig os.Signal) { p.Signal(sig) }
