package balancer

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// tunnelBufSize is the size of the pooled buffer one pump borrows for one
// read and the write that follows; an idle tunnel holds none.
const tunnelBufSize = 16 << 10

// bufPool holds the pumps' buffers.
var bufPool = sync.Pool{New: func() any { b := make([]byte, tunnelBufSize); return &b }}

// tunnel relays bytes both ways between a client connection and a node
// connection after a WebSocket upgrade, with two goroutines and no buffer
// while idle (docs/performance.md, "WebSocket tunnel"). It is the
// [Stream] a drain closes.
type tunnel struct {
	client, node net.Conn
	n            *Node
	finTimeout   time.Duration // how long one direction may stay open after the other ended cleanly
	done         atomic.Int32  // directions finished
	closed       atomic.Bool   // both connections closed
}

// startTunnel registers the tunnel with n (counted in flight already by
// the caller's Begin) and starts its two pumps. It returns at once.
func startTunnel(client, node net.Conn, n *Node, finTimeout time.Duration) *tunnel {
	t := &tunnel{client: client, node: node, n: n, finTimeout: finTimeout}
	n.AddStream(t)
	go t.pump(client, node, true)
	go t.pump(node, client, false)
	return t
}

// Close closes both connections; both pumps then end. Safe to call more
// than once and concurrently.
func (t *tunnel) Close() error {
	if t.closed.CompareAndSwap(false, true) {
		t.client.Close()
		t.node.Close()
	}
	return nil
}

// pump copies src to dst until src ends or either side breaks. It is the
// goroutine's entry function and calls nothing deep while parked, so the
// goroutine stays on the smallest stack. On a socket it waits for
// readability through the raw connection and borrows a buffer only once
// data is there; on anything else (TLS) it reads with a borrowed buffer.
func (t *tunnel) pump(src, dst net.Conn, up bool) {
	var (
		buf  *[]byte
		n    int
		rerr error
	)
	var rc syscall.RawConn
	if sc, ok := src.(syscall.Conn); ok {
		rc, _ = sc.SyscallConn()
	}
	read := func(fd uintptr) bool {
		buf = bufPool.Get().(*[]byte)
		for {
			n, rerr = syscall.Read(int(fd), *buf)
			if rerr != syscall.EINTR {
				break
			}
		}
		if rerr == syscall.EAGAIN {
			bufPool.Put(buf)
			buf = nil
			return false // park in the netpoller holding nothing
		}
		return true
	}
	for {
		var err error
		if rc != nil {
			err = rc.Read(read)
			if err == nil {
				err = rerr
			}
			if n < 0 {
				n = 0
			}
			if err == nil && n == 0 {
				err = io.EOF
			}
		} else {
			buf = bufPool.Get().(*[]byte)
			n, err = src.Read(*buf)
		}
		if n > 0 {
			if _, werr := dst.Write((*buf)[:n]); werr != nil {
				err = werr
			} else if up {
				t.n.bytesUp.Add(uint64(n))
			} else {
				t.n.bytesDown.Add(uint64(n))
			}
		}
		if buf != nil {
			bufPool.Put(buf)
			buf = nil
		}
		if err != nil {
			t.finish(dst, err)
			return
		}
	}
}

// finish ends one direction. A clean end (EOF) is passed on as a
// half-close of dst, and the other direction, which reads dst, gets
// finTimeout to end too; any error closes both sides. The second direction
// to finish closes both and releases the tunnel.
func (t *tunnel) finish(dst net.Conn, err error) {
	if errors.Is(err, io.EOF) && !t.closed.Load() {
		if cw, ok := dst.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
			if t.finTimeout > 0 {
				_ = dst.SetReadDeadline(time.Now().Add(t.finTimeout))
			}
		} else {
			t.Close()
		}
	} else {
		t.Close()
	}
	if t.done.Add(1) == 2 {
		t.Close()
		t.n.RemoveStream(t)
		t.n.End()
	}
}
