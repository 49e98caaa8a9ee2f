//go:build unix

package notifycheck

import "syscall"

// stalledSocket sets up, before it connects, the socket of a subscriber
// that will never read: the smallest receive buffer (1 byte asked, which
// the kernel raises to its minimum, about 2 KiB on Linux), and segments the
// size of an Ethernet link's. On loopback, whose segments are 64 KiB, the
// server's send buffer grows to megabytes for a peer that reads nothing,
// some 40,000 events; at 1460 bytes it stays at tens of KiB, as it would
// across a real network, and fills after a thousand or so.
func stalledSocket(_, _ string, c syscall.RawConn) error {
	var err error
	c.Control(func(fd uintptr) {
		err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1)
		if err == nil {
			err = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_MAXSEG, ethernetMSS)
		}
	})
	return err
}

// ethernetMSS is the TCP segment size of a 1500-byte Ethernet frame.
const ethernetMSS = 1460
