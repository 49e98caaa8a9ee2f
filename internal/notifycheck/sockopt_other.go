//go:build !unix

package notifycheck

import "syscall"

// stalledSocket leaves the socket as it is: the stalled subscriber then
// takes more events to fill its buffers.
func stalledSocket(_, _ string, _ syscall.RawConn) error { return nil }
