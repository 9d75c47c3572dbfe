package ws

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"time"
)

// This file lets a socket's writer put several frames in one write
// system call. Under load a connection's queue holds more than one event
// when its writer wakes; written one by one, each frame costs a write(2),
// which on loopback and LAN is most of a delivery's CPU (the kernel's TCP
// path runs in it). The writer corks the socket's connection, writes the
// frames waiting (gorilla frames each into the cork's buffer), and uncorks:
// one write(2) for all. With one frame waiting nothing is corked, so a
// quiet socket's latency is unchanged.

// maxCorkBytes bounds what one uncork writes; the writer stops taking
// frames from the queue beyond it.
const maxCorkBytes = 64 << 10

// corkBufs recycles cork buffers, so an idle socket holds none.
var corkBufs = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// corkConn is a socket's net.Conn with a write buffer the writer can
// switch on (cork) and flush (uncork). Writes from other goroutines
// (gorilla's WriteControl: pings, close frames) take the same lock, so
// bytes never interleave and never overtake frames corked before them.
// Write deadlines are applied when the bytes go to the kernel, and only
// when they changed, since moving a deadline costs a timer update.
type corkConn struct {
	net.Conn

	mu       sync.Mutex
	corked   bool
	buf      *[]byte   // from corkBufs while corked, else nil
	deadline time.Time // the write deadline asked for
	applied  time.Time // the write deadline set on Conn
}

// Write writes p, or appends it to the buffer while corked.
func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked {
		*c.buf = append(*c.buf, p...)
		return len(p), nil
	}
	if err := c.applyDeadline(); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// SetWriteDeadline records t for the next write to the kernel.
func (c *corkConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.mu.Unlock()
	return nil
}

// SetDeadline sets the read deadline and records the write deadline.
func (c *corkConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// applyDeadline sets the recorded write deadline on Conn if it changed.
// c.mu is held.
func (c *corkConn) applyDeadline() error {
	if c.deadline.Equal(c.applied) {
		return nil
	}
	if err := c.Conn.SetWriteDeadline(c.deadline); err != nil {
		return err
	}
	c.applied = c.deadline
	return nil
}

// cork starts buffering writes.
func (c *corkConn) cork() {
	c.mu.Lock()
	if !c.corked {
		c.corked = true
		c.buf = corkBufs.Get().(*[]byte)
	}
	c.mu.Unlock()
}

// buffered returns how many bytes wait for uncork.
func (c *corkConn) buffered() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		return 0
	}
	return len(*c.buf)
}

// uncork writes what was buffered in one write and stops buffering.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked {
		return nil
	}
	c.corked = false
	b := c.buf
	c.buf = nil
	defer func() {
		if cap(*b) <= maxPooledBuf {
			*b = (*b)[:0]
			corkBufs.Put(b)
		}
	}()
	if len(*b) == 0 {
		return nil
	}
	if err := c.applyDeadline(); err != nil {
		return err
	}
	_, err := c.Conn.Write(*b)
	return err
}

// Close writes what is still corked (a close frame written while the
// writer was between cork and uncork) unless a write is under way, and
// closes at once: a write stuck on a slow client must not hold Close up.
func (c *corkConn) Close() error {
	if c.mu.TryLock() {
		if c.corked && len(*c.buf) > 0 {
			_ = c.Conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			_, _ = c.Conn.Write(*c.buf)
		}
		c.corked = false // the writer's uncork finds nothing to write
		c.mu.Unlock()
	}
	return c.Conn.Close()
}

// corkingWriter hands gorilla's upgrader a corkConn when it hijacks the
// connection.
type corkingWriter struct {
	http.ResponseWriter
	hj http.Hijacker
}

// Hijack hijacks the underlying connection and wraps it in a corkConn.
func (w corkingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := w.hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	return &corkConn{Conn: nc}, brw, nil
}

// withCork wraps a hijackable writer so the upgraded socket can cork.
func withCork(w http.ResponseWriter) http.ResponseWriter {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return w
	}
	return corkingWriter{ResponseWriter: w, hj: hj}
}

// Interface guard.
var _ http.Hijacker = corkingWriter{}
