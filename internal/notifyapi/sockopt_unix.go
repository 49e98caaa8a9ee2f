//go:build unix

package notifyapi

import "syscall"

// setTinyReceiveBuffer asks for a 1-byte receive buffer, which the kernel
// raises to its minimum (about 2 KiB on Linux).
func setTinyReceiveBuffer(_, _ string, c syscall.RawConn) error {
	var err error
	c.Control(func(fd uintptr) {
		err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1)
	})
	return err
}
