package ws

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingListener wraps every accepted connection in a writeGate.
type countingListener struct {
	net.Listener
	mu    sync.Mutex
	gates []*writeGate
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	g := &writeGate{Conn: c, open: make(chan struct{})}
	close(g.open)
	l.mu.Lock()
	l.gates = append(l.gates, g)
	l.mu.Unlock()
	return g, nil
}

// writeGate is a real connection that counts its writes and, while
// closed, holds each write until it opens.
type writeGate struct {
	net.Conn
	writes atomic.Int64
	held   chan struct{} // non-nil while a write waits at the gate
	mu     sync.Mutex
	open   chan struct{}
}

func (g *writeGate) Write(p []byte) (int, error) {
	g.mu.Lock()
	open := g.open
	g.mu.Unlock()
	select {
	case <-open:
	default:
		g.held <- struct{}{}
		<-open
	}
	g.writes.Add(1)
	return g.Conn.Write(p)
}

// shut makes the next write wait; the returned channel receives when it does.
func (g *writeGate) shut() chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open = make(chan struct{})
	g.held = make(chan struct{}, 1)
	return g.held
}

func (g *writeGate) reopen() {
	g.mu.Lock()
	close(g.open)
	g.mu.Unlock()
}

// Events that pile up on a connection's queue while its writer is busy go
// to the kernel in one write, in order, each with its own seq.
func TestQueuedEventsGoOutInOneWrite(t *testing.T) {
	l := &countingListener{}
	e := newTestEnvListener(t, func(inner net.Listener) net.Listener { l.Listener = inner; return l })
	e.members.setChannel("ch", "alice")
	c, _ := e.connect(t, "alice")
	l.mu.Lock()
	g := l.gates[len(l.gates)-1]
	l.mu.Unlock()

	publish := func(n int) {
		t.Helper()
		for range n {
			if err := e.hub.Publish(context.Background(), Event{Event: "posted", Broadcast: Broadcast{ChannelID: "ch"}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	held := g.shut()
	publish(1) // the writer takes it and waits at the gate
	select {
	case <-held:
	case <-time.After(longStop):
		t.Fatal("the writer never wrote the first event")
	}
	before := g.writes.Load()
	const queued = 20
	publish(queued) // queued behind the held write
	g.reopen()
	for want := int64(1); want <= queued+1; want++ {
		m := c.read()
		if got := m.seq(t); got != want {
			t.Fatalf("event %d has seq %d", want, got)
		}
	}
	// The held write, then the queued events in one (a ping may add one).
	if got := g.writes.Load() - before; got > 3 {
		t.Errorf("%d events queued behind a busy writer took %d writes, want 2 (3 with a ping)", queued, got)
	}
}

// corkConn buffers while corked, writes everything at uncork in one write,
// never lets a write from another goroutine overtake corked bytes, and
// sends what is corked when closed.
func TestCorkConn(t *testing.T) {
	tests := []struct {
		name       string
		run        func(c *corkConn)
		wantWrites int64
		want       string
	}{
		{"uncorked writes go straight through", func(c *corkConn) {
			_, _ = c.Write([]byte("a"))
			_, _ = c.Write([]byte("b"))
		}, 2, "ab"},
		{"corked writes go in one write at uncork", func(c *corkConn) {
			c.cork()
			_, _ = c.Write([]byte("a"))
			_, _ = c.Write([]byte("b"))
			_, _ = c.Write([]byte("c"))
			if c.buffered() != 3 {
				panic("buffered")
			}
			_ = c.uncork()
		}, 1, "abc"},
		{"a write from another goroutine queues behind corked bytes", func(c *corkConn) {
			c.cork()
			_, _ = c.Write([]byte("data"))
			done := make(chan struct{})
			go func() { _, _ = c.Write([]byte("ping")); close(done) }()
			<-done
			_ = c.uncork()
		}, 1, "dataping"},
		{"close sends what is corked", func(c *corkConn) {
			c.cork()
			_, _ = c.Write([]byte("close frame"))
		}, 1, "close frame"},
		{"uncork with nothing corked writes nothing", func(c *corkConn) {
			c.cork()
			_ = c.uncork()
			_ = c.uncork()
		}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			got := make(chan []byte, 1)
			go func() {
				s, err := ln.Accept()
				if err != nil {
					got <- nil
					return
				}
				b, _ := io.ReadAll(s)
				got <- b
			}()
			raw, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			g := &writeGate{Conn: raw, open: make(chan struct{})}
			close(g.open)
			c := &corkConn{Conn: g}
			tt.run(c)
			_ = c.Close()
			if b := <-got; !bytes.Equal(b, []byte(tt.want)) {
				t.Errorf("peer read %q, want %q", b, tt.want)
			}
			if n := g.writes.Load(); n != tt.wantWrites {
				t.Errorf("%d writes reached the connection, want %d", n, tt.wantWrites)
			}
		})
	}
}
