package ws

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// disconnect closes c's socket from the client side and waits until the
// Hub has noticed, leaving user's connection kept for resuming.
func (e *testEnv) disconnect(t testing.TB, c *client, user string) {
	t.Helper()
	_ = c.ws.Close()
	waitFor(t, "the Hub to notice the socket closed", func() bool { return e.hub.UserSocketCount(user) == 0 })
}

// publishReturns publishes ev on another goroutine and fails if Publish
// does not return: the publisher must never wait for a socket.
func (e *testEnv) publishReturns(t testing.TB, ev Event) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- e.hub.Publish(context.Background(), ev) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Publish: %v", err)
		}
	case <-time.After(longStop):
		t.Fatal("Publish blocked")
	}
}

func TestPressureDropsTypingAndStatusFirst(t *testing.T) {
	e := newTestEnv(t, func(c *Config, _ *Deps) { c.SendQueueSize = 8 }) // droppable from 4 waiting
	e.members.setChannel("c1", "alice")
	c, id := e.connect(t, "alice")
	e.disconnect(t, c, "alice") // nothing drains the queue now

	typing := Event{Event: EventTyping, Broadcast: Broadcast{ChannelID: "c1"}, Data: map[string]any{"post": "t"}}
	status := Event{Event: EventStatusChange, Broadcast: Broadcast{UserID: "alice"}, Data: map[string]any{"post": "s"}}
	viewed := Event{Event: EventChannelViewed, Broadcast: Broadcast{UserID: "alice"}, Data: map[string]any{"post": "v"}}
	for _, ev := range []Event{
		posted("c1", "p1"), typing, posted("c1", "p2"), posted("c1", "p3"), // 4 waiting: half full
		typing, status, viewed, // dropped
		posted("c1", "p4"), posted("c1", "p5"), // still queued
	} {
		e.publishReturns(t, ev)
	}

	r := e.dial(t, dialOpts{header: "Bearer tok-alice", connID: id, seq: 1})
	for i, want := range []string{"p1", "t", "p2", "p3", "p4", "p5"} {
		m := r.read()
		if m.marker(t) != want || m.seq(t) != int64(i+1) {
			t.Fatalf("event %d: %s, want %s with seq %d", i, m.raw, want, i+1)
		}
	}
}

func TestFullQueueForgetsDisconnectedConnection(t *testing.T) {
	e := newTestEnv(t, func(c *Config, _ *Deps) { c.SendQueueSize = 4 })
	e.members.setChannel("c1", "alice")
	c, id := e.connect(t, "alice")
	e.disconnect(t, c, "alice")
	for i := range 5 { // the fifth overflows
		e.publishReturns(t, posted("c1", string(rune('a'+i))))
	}
	waitFor(t, "the connection to be forgotten", func() bool { return e.hub.connCount() == 0 })

	r := e.dial(t, dialOpts{header: "Bearer tok-alice", connID: id, seq: 1})
	hello := r.read()
	if hello.Event != EventHello || hello.seq(t) != 0 || hello.connectionID(t) == id {
		t.Fatalf("got %s, want a hello with a new connection_id and seq 0", hello.raw)
	}
}

// smallBuffers is a listener whose connections have a small send buffer,
// so a client that does not read fills it quickly.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
}

func TestFullQueueClosesStalledSocketWithoutBlocking(t *testing.T) {
	e := newTestEnvListener(t, func(l net.Listener) net.Listener { return smallBuffers{l} },
		func(c *Config, _ *Deps) { c.SendQueueSize = 4 })
	e.members.setChannel("c1", "alice")
	dialer := &websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4096)
		}
		return c, err
	}}
	stalled := e.dial(t, dialOpts{header: "Bearer tok-alice", dialer: dialer})
	stalled.read() // the hello, after which the client reads nothing

	big := strings.Repeat("x", 16<<10)
	const bound = 2000 // far more than the socket buffers and the queue hold
	for i := 0; e.hub.connCount() > 0; i++ {
		if i == bound {
			t.Fatalf("connection still held after %d events of 16 KiB", bound)
		}
		e.publishReturns(t, posted("c1", big))
	}
	if err := stalled.expectClosed(func(msg) bool { return true }); err == nil {
		t.Fatal("stalled socket not closed")
	}
	waitFor(t, "no open socket", func() bool { return e.hub.SocketCount() == 0 })
}
