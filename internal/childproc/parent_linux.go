package childproc

import "syscall"

// dieWithParent has the kernel kill the child when the thread that started
// it exits: the Go runtime keeps its threads for the life of the process.
func dieWithParent(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
