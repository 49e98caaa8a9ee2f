package server

import "net"

// FreePort asks the kernel for a free 127.0.0.1 port, for a server that
// must be told its port (a learner's, a redis-server) rather than take
// :0. Another process could take it before that server binds it; the
// server's bind error then says so.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
