package balancer

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// upgradeBackend is a raw TCP app node that answers an upgrade with 101
// (or with status, if not 101) and then runs serve on the connection.
type upgradeBackend struct {
	l       net.Listener
	status  int
	mu      sync.Mutex
	headers []http.Header
	serve   func(c *net.TCPConn, r *bufio.Reader)
}

func newUpgradeBackend(t testing.TB, serve func(c *net.TCPConn, r *bufio.Reader)) *upgradeBackend {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &upgradeBackend{l: l, status: 101, serve: serve}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go b.handle(c.(*net.TCPConn))
		}
	}()
	return b
}

func (b *upgradeBackend) addr() string { return b.l.Addr().String() }

func (b *upgradeBackend) handle(c *net.TCPConn) {
	r := bufio.NewReader(c)
	req, err := http.ReadRequest(r)
	if err != nil {
		c.Close()
		return
	}
	b.mu.Lock()
	b.headers = append(b.headers, req.Header)
	status := b.status
	b.mu.Unlock()
	if status != 101 {
		body := "not an upgrade"
		fmt.Fprintf(c, "HTTP/1.1 %d Nope\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", status, len(body), body)
		c.Close()
		return
	}
	io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	b.serve(c, r)
}

// echo copies everything back and passes a half-close on.
func echo(c *net.TCPConn, r *bufio.Reader) {
	_, _ = io.Copy(c, r)
	_ = c.CloseWrite()
	_, _ = io.Copy(io.Discard, c)
	c.Close()
}

// frontDoor serves p's WebSocketProxy on a loopback HTTP server.
func frontDoor(t testing.TB, p *Pool) string {
	t.Helper()
	proxy := &WebSocketProxy{Pool: p, FinTimeout: 2 * time.Second}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !IsWebSocketUpgrade(r) {
			http.Error(w, "not an upgrade", http.StatusBadRequest)
			return
		}
		if err := proxy.ServeHTTP(w, r); err != nil {
			var he *HandshakeError
			if errors.As(err, &he) {
				http.Error(w, err.Error(), he.Status)
				return
			}
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

const upgradeRequest = "GET /api/v4/websocket HTTP/1.1\r\nHost: chat.example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"

// dialTunnel opens a tunnel through front, sending extra right behind the
// upgrade request, and returns the connection after the 101 head.
func dialTunnel(t testing.TB, front, extra string) (*net.TCPConn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", front)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, upgradeRequest+extra); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 {
		t.Fatalf("upgrade answered %s; want 101", resp.Status)
	}
	return c.(*net.TCPConn), r
}

func readN(t testing.TB, r io.Reader, n int) string {
	t.Helper()
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatalf("reading %d bytes: %v", n, err)
	}
	return string(buf)
}

// tunnelPool is a pool with the given backends active.
func tunnelPool(t testing.TB, addrs ...string) *Pool {
	t.Helper()
	cfg := testConfig(addrs...)
	cfg.DrainGrace, cfg.DrainSpread = 0, 0
	cfg.TryDuration = time.Second
	p, err := NewPool(cfg, Options{Prober: ProberFunc(nil)})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		p.reportProbe(p.Node(a), 200, nil, 0)
	}
	return p
}

func TestTunnelRelaysBothWaysWithEarlyBytes(t *testing.T) {
	b := newUpgradeBackend(t, echo)
	p := tunnelPool(t, b.addr())
	front := frontDoor(t, p)
	c, r := dialTunnel(t, front, "early")
	if got := readN(t, r, 5); got != "early" {
		t.Fatalf("echo of the early bytes: %q", got)
	}
	io.WriteString(c, "hello")
	if got := readN(t, r, 5); got != "hello" {
		t.Fatalf("echo: %q", got)
	}
	st, _ := p.Status(b.addr())
	if st.WebSockets != 1 || st.InFlight != 0 {
		t.Fatalf("status with one open tunnel: websockets %d, in flight %d; want 1, 0", st.WebSockets, st.InFlight)
	}
	h := b.headers[0]
	if h.Get("X-Forwarded-For") != "127.0.0.1" || h.Get("X-Real-Ip") != "127.0.0.1" || h.Get("X-Forwarded-Proto") != "http" || h.Get("Upgrade") != "websocket" {
		t.Fatalf("node got headers %v", h)
	}
	c.Close()
	waitFor(t, "the tunnel to end", func() bool {
		st, _ := p.Status(b.addr())
		return st.WebSockets == 0 && p.Node(b.addr()).inFlight.Load() == 0
	})
	if st, _ := p.Status(b.addr()); st.BytesUp != 10 || st.BytesDown != 10 {
		t.Fatalf("bytes up %d down %d; want 10 and 10", st.BytesUp, st.BytesDown)
	}
}

func TestTunnelHalfClose(t *testing.T) {
	t.Run("client half-closes first", func(t *testing.T) {
		b := newUpgradeBackend(t, func(c *net.TCPConn, r *bufio.Reader) {
			got, _ := io.ReadAll(r) // until the client's FIN comes through
			io.WriteString(c, "got:"+string(got))
			c.CloseWrite()
			c.Close()
		})
		p := tunnelPool(t, b.addr())
		c, r := dialTunnel(t, frontDoor(t, p), "")
		io.WriteString(c, "abc")
		c.CloseWrite()
		rest, err := io.ReadAll(r)
		if err != nil || string(rest) != "got:abc" {
			t.Fatalf("after half-close the client read %q, %v; want the node's answer then EOF", rest, err)
		}
		waitFor(t, "the tunnel released", func() bool { return p.Node(b.addr()).inFlight.Load() == 0 })
	})
	t.Run("node half-closes first", func(t *testing.T) {
		got := make(chan string, 1)
		b := newUpgradeBackend(t, func(c *net.TCPConn, r *bufio.Reader) {
			io.WriteString(c, "bye")
			c.CloseWrite()
			rest, _ := io.ReadAll(r)
			got <- string(rest)
			c.Close()
		})
		p := tunnelPool(t, b.addr())
		c, r := dialTunnel(t, frontDoor(t, p), "")
		rest, err := io.ReadAll(r)
		if err != nil || string(rest) != "bye" {
			t.Fatalf("client read %q, %v; want bye then EOF", rest, err)
		}
		io.WriteString(c, "still here")
		c.CloseWrite()
		if s := <-got; s != "still here" {
			t.Fatalf("node got %q after its half-close; want the client's bytes", s)
		}
		waitFor(t, "the tunnel released", func() bool { return p.Node(b.addr()).inFlight.Load() == 0 })
	})
	t.Run("client resets", func(t *testing.T) {
		ended := make(chan struct{})
		b := newUpgradeBackend(t, func(c *net.TCPConn, r *bufio.Reader) {
			_, _ = io.Copy(io.Discard, r)
			close(ended)
			c.Close()
		})
		p := tunnelPool(t, b.addr())
		c, _ := dialTunnel(t, frontDoor(t, p), "")
		c.SetLinger(0)
		c.Close()
		<-ended
		waitFor(t, "the tunnel released", func() bool { return p.Node(b.addr()).inFlight.Load() == 0 })
	})
}

func TestDrainClosesTunnels(t *testing.T) {
	b := newUpgradeBackend(t, echo)
	p := tunnelPool(t, b.addr())
	front := frontDoor(t, p)
	_, r := dialTunnel(t, front, "")
	st, err := p.Drain(b.addr())
	if err != nil || st.State != "draining" {
		t.Fatalf("drain: %+v, %v", st, err)
	}
	// DrainGrace and DrainSpread are zero in tunnelPool: closed at once.
	if _, err := r.ReadByte(); err == nil {
		t.Fatal("read a byte from a tunnel the drain closed")
	}
	waitFor(t, "drained", func() bool { return state(p, b.addr()) == StateDrained })
	if st, _ := p.Status(b.addr()); st.ForcedCloses != 1 {
		t.Fatalf("forced closes %d; want 1", st.ForcedCloses)
	}
}

func TestTunnelHandshakeFailures(t *testing.T) {
	t.Run("no active node is 503", func(t *testing.T) {
		cfg := testConfig("127.0.0.1:1")
		p2, _ := NewPool(cfg, Options{Prober: ProberFunc(nil)})
		resp := get(t, frontDoor(t, p2))
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("status %d; want 503", resp.StatusCode)
		}
	})
	t.Run("a dead node is skipped and marked", func(t *testing.T) {
		b := newUpgradeBackend(t, echo)
		dead := deadAddr(t)
		p := tunnelPool(t, dead, b.addr())
		front := frontDoor(t, p)
		for range 3 {
			dialTunnel(t, front, "")
		}
		if got := state(p, dead); got != StateUnhealthy {
			t.Fatalf("dead node is %s; want unhealthy", got)
		}
	})
	t.Run("a non-101 answer is relayed", func(t *testing.T) {
		b := newUpgradeBackend(t, echo)
		b.status = 401
		p := tunnelPool(t, b.addr())
		resp := get(t, frontDoor(t, p))
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 401 || string(body) != "not an upgrade" {
			t.Fatalf("got %d %q; want the node's 401", resp.StatusCode, body)
		}
		if n := p.Node(b.addr()).inFlight.Load(); n != 0 {
			t.Fatalf("%d in flight after a relayed answer", n)
		}
	})
}

// get sends the upgrade request with net/http and returns the response.
func get(t *testing.T, front string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+front+"/api/v4/websocket", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
