//go:build unix

package balancer

import (
	"net"
	"syscall"
)

// alive reports whether an idle connection is still open: a peek that
// does not wait finds neither the node's close nor unsolicited bytes. It
// costs one system call, paid only before a request that cannot be sent
// twice.
func alive(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var buf [1]byte
	open := true
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// n == 0 without an error is the node's FIN; bytes are an answer
		// nobody asked for; EAGAIN is an open, quiet connection.
		open = rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK
		_ = n
		return true
	})
	return err == nil && open
}
