package balancer

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rawNode is a node on loopback that reads requests with Go's parser and
// answers each with what answer returns for it, written raw; answer may
// also close the connection or stall.
type rawNode struct {
	ln       net.Listener
	accepted atomic.Int32 // connections accepted
	requests atomic.Int32 // requests read
	mu       sync.Mutex   // guards conns
	conns    []net.Conn
	answer   func(r *http.Request, c net.Conn) bool // false: close the connection
}

func newRawNode(t *testing.T, answer func(r *http.Request, c net.Conn) bool) *rawNode {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n := &rawNode{ln: ln, answer: answer}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.accepted.Add(1)
			n.mu.Lock()
			n.conns = append(n.conns, c)
			n.mu.Unlock()
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					r, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					n.requests.Add(1)
					if !n.answer(r, c) {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		n.closeAll()
	})
	return n
}

func (n *rawNode) addr() string { return n.ln.Addr().String() }

// closeAll closes every connection the node accepted, as a node's
// idle timeout or restart does.
func (n *rawNode) closeAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, c := range n.conns {
		c.Close()
	}
	n.conns = nil
}

func okAnswer(r *http.Request, c net.Conn) bool {
	_, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	return err == nil
}

func h1Get(method, path string) *H1Request {
	return &H1Request{
		Head:       []byte(method + " " + path + " HTTP/1.1\r\nHost: node\r\n\r\n"),
		Method:     method,
		Replayable: method == http.MethodGet,
	}
}

// roundTrip does one round trip and reads the body.
func roundTrip(ctx context.Context, c *H1Client, addr string, req *H1Request) (int, string, error) {
	var res H1Response
	if err := c.RoundTrip(ctx, addr, req, &res); err != nil {
		return 0, "", err
	}
	defer res.Close()
	body, err := io.ReadAll(&res)
	return res.StatusCode, string(body), err
}

func TestH1ClientKeepsConnectionsAlive(t *testing.T) {
	n := newRawNode(t, okAnswer)
	c := NewH1Client(H1Options{})
	defer c.Close()
	for i := range 5 {
		code, body, err := roundTrip(context.Background(), c, n.addr(), h1Get("GET", "/"))
		if err != nil || code != 200 || body != "ok" {
			t.Fatalf("request %d: %d %q %v", i, code, body, err)
		}
	}
	if got := n.accepted.Load(); got != 1 {
		t.Fatalf("the node accepted %d connections for 5 sequential requests; want 1", got)
	}
	if c.Idle(n.addr()) != 1 {
		t.Fatalf("idle connections: %d; want 1", c.Idle(n.addr()))
	}
}

// TestH1ClientStaleConnection: the node closed the idle connection; the
// next request finds out only when it reads. A replayable one is sent
// again once on a fresh connection; one that is not is never sent on a
// connection found closed beforehand.
func TestH1ClientStaleConnection(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		t.Run(method, func(t *testing.T) {
			n := newRawNode(t, okAnswer)
			c := NewH1Client(H1Options{})
			defer c.Close()
			if _, _, err := roundTrip(context.Background(), c, n.addr(), h1Get("GET", "/")); err != nil {
				t.Fatal(err)
			}
			n.closeAll()
			code, body, err := roundTrip(context.Background(), c, n.addr(), h1Get(method, "/again"))
			if err != nil || code != 200 || body != "ok" {
				t.Fatalf("after the node closed the idle connection: %d %q %v", code, body, err)
			}
			if got := n.requests.Load(); got != 2 {
				t.Fatalf("the node read %d requests; want 2 (none lost, none doubled)", got)
			}
			if got := n.accepted.Load(); got != 2 {
				t.Fatalf("the node accepted %d connections; want 2", got)
			}
		})
	}
}

// TestH1ClientNoReplayAfterAnAnswerStarted: a connection that breaks
// after the answer began is an error, never a second request.
func TestH1ClientNoReplayAfterAnAnswerStarted(t *testing.T) {
	n := newRawNode(t, func(r *http.Request, c net.Conn) bool {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Le")
		return false
	})
	c := NewH1Client(H1Options{})
	defer c.Close()
	if _, _, err := roundTrip(context.Background(), c, n.addr(), h1Get("GET", "/")); err == nil {
		t.Fatal("a cut head read as an answer")
	}
	if got := n.requests.Load(); got != 1 {
		t.Fatalf("the node read %d requests; want 1", got)
	}
}

func TestH1ClientErrors(t *testing.T) {
	stall := func(r *http.Request, c net.Conn) bool {
		time.Sleep(2 * time.Second)
		return false
	}
	huge := func(r *http.Request, c net.Conn) bool {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Big: "+strings.Repeat("x", 64<<10)+"\r\nContent-Length: 0\r\n\r\n")
		return true
	}
	refused := func() string {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}
	for _, tc := range []struct {
		name   string
		opts   H1Options
		answer func(*http.Request, net.Conn) bool
		check  func(error) bool
	}{
		{"a node too slow is a timeout", H1Options{Timeout: 100 * time.Millisecond}, stall, isTimeout},
		{"a head over the limit", H1Options{MaxHeaderBytes: 16 << 10}, huge, func(err error) bool { return errors.Is(err, ErrHeadTooLarge) }},
		{"a refused connection is a dial error", H1Options{}, nil, func(err error) bool { var de *DialError; return errors.As(err, &de) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := refused()
			if tc.answer != nil {
				addr = newRawNode(t, tc.answer).addr()
			}
			c := NewH1Client(tc.opts)
			defer c.Close()
			_, _, err := roundTrip(context.Background(), c, addr, h1Get("GET", "/"))
			if err == nil || !tc.check(err) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

// TestH1ClientCancel: cancelling the request's context ends a wait on a
// slow node at once, well before the timeout.
func TestH1ClientCancel(t *testing.T) {
	release := make(chan struct{})
	n := newRawNode(t, func(r *http.Request, c net.Conn) bool {
		<-release
		return false
	})
	defer close(release)
	c := NewH1Client(H1Options{Timeout: time.Minute})
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := roundTrip(ctx, c, n.addr(), h1Get("GET", "/"))
		done <- err
	}()
	waitFor(t, "the request at the node", func() bool { return n.requests.Load() == 1 })
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled round trip: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the round trip did not end when its context was cancelled")
	}
}

// TestH1ClientInterim: 1xx answers reach the caller before the final one.
func TestH1ClientInterim(t *testing.T) {
	n := newRawNode(t, func(r *http.Request, c net.Conn) bool {
		io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
		return true
	})
	c := NewH1Client(H1Options{})
	defer c.Close()
	var seen []string
	req := h1Get("GET", "/")
	req.Interim = func(res *H1Response) {
		link, _ := res.Field("Link")
		seen = append(seen, http.StatusText(res.StatusCode)+" "+link)
	}
	code, _, err := roundTrip(context.Background(), c, n.addr(), req)
	if err != nil || code != 204 {
		t.Fatalf("%d %v", code, err)
	}
	if strings.Join(seen, "|") != "Early Hints </a.css>|Continue " {
		t.Fatalf("interim answers seen: %q", seen)
	}
}

// TestH1ClientPoolLimits: at most MaxIdle connections wait per node, and
// one idle for IdleTimeout is not used again.
func TestH1ClientPoolLimits(t *testing.T) {
	release := make(chan struct{})
	n := newRawNode(t, func(r *http.Request, c net.Conn) bool {
		if r.URL.Path == "/hold" {
			<-release
		}
		return okAnswer(r, c)
	})
	c := NewH1Client(H1Options{MaxIdle: 2, IdleTimeout: 200 * time.Millisecond})
	defer c.Close()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := roundTrip(context.Background(), c, n.addr(), h1Get("GET", "/hold")); err != nil {
				t.Error(err)
			}
		}()
	}
	waitFor(t, "4 requests in flight", func() bool { return n.requests.Load() == 4 })
	close(release)
	wg.Wait()
	if got := c.Idle(n.addr()); got != 2 {
		t.Fatalf("idle connections after 4 concurrent requests: %d; want MaxIdle 2", got)
	}
	before := n.accepted.Load()
	waitFor(t, "the idle timeout to pass", func() bool { return c.oldestIdle(n.addr()) > 200*time.Millisecond })
	if _, _, err := roundTrip(context.Background(), c, n.addr(), h1Get("GET", "/")); err != nil {
		t.Fatal(err)
	}
	if n.accepted.Load() != before+1 {
		t.Fatalf("a connection idle past IdleTimeout was reused")
	}
}

// oldestIdle is how long the longest-idle connection to addr has waited.
func (c *H1Client) oldestIdle(addr string) time.Duration {
	v, ok := c.pools.Load(addr)
	if !ok {
		return 0
	}
	p := v.(*idlePool)
	p.mu.Lock()
	defer p.mu.Unlock()
	var oldest time.Duration
	for _, conn := range p.conns {
		oldest = max(oldest, time.Since(conn.idleSince))
	}
	return oldest
}

func TestAppendRequestHeadForwarding(t *testing.T) {
	for _, tc := range []struct {
		name    string
		remote  string
		header  http.Header
		trusted bool
		want    []string
		absent  []string
	}{
		{"untrusted client's forwarded fields are replaced", "10.0.0.7:5000",
			http.Header{"X-Forwarded-For": {"1.2.3.4"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"evil"}}, false,
			[]string{"X-Forwarded-For: 10.0.0.7\r\n", "X-Forwarded-Proto: http\r\n", "X-Forwarded-Host: chat.example.com\r\n", "X-Real-Ip: 10.0.0.7\r\n"}, nil},
		{"trusted proxy's list is extended and its proto and host kept", "10.0.0.7:5000",
			http.Header{"X-Forwarded-For": {"1.2.3.4", "5.6.7.8"}, "X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"outer.example.com"}}, true,
			[]string{"X-Forwarded-For: 1.2.3.4, 5.6.7.8, 10.0.0.7\r\n", "X-Forwarded-Proto: https\r\n", "X-Forwarded-Host: outer.example.com\r\n"}, nil},
		{"IPv6 client with a zone", "[fe80::1%eth0]:5000", http.Header{}, false,
			[]string{"X-Forwarded-For: fe80::1\r\n", "X-Real-Ip: fe80::1%eth0\r\n"}, nil},
		{"hop-by-hop and Connection-listed fields stay", "10.0.0.7:5000",
			http.Header{"Connection": {"X-Secret, keep-alive"}, "X-Secret": {"s"}, "Keep-Alive": {"1"}, "Te": {"trailers, gzip"}, "Upgrade": {"h2c"}, "Proxy-Authorization": {"Basic x"}}, false,
			[]string{"Te: trailers\r\n"}, []string{"X-Secret", "Keep-Alive", "Upgrade", "Proxy-Authorization", "Connection"}},
		{"a value cannot end the head", "10.0.0.7:5000", http.Header{"X-Evil": {"a\r\nInjected: yes"}}, false,
			[]string{"X-Evil: a  Injected: yes\r\n"}, []string{"\r\nInjected"}},
		{"a nil field is left out", "10.0.0.7:5000", http.Header{"X-Forwarded-For": nil}, false,
			nil, []string{"X-Forwarded-For"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "http://chat.example.com/api/v4/users/me?x=1", nil)
			r.RemoteAddr, r.Header = tc.remote, tc.header
			head, gz := AppendRequestHead(nil, r, &Forward{Trusted: tc.trusted, RealIP: true, Via: "Caddy", Gzip: true})
			s := string(head)
			if !strings.HasPrefix(s, "GET /api/v4/users/me?x=1 HTTP/1.1\r\nHost: chat.example.com\r\n") || !strings.HasSuffix(s, "\r\n\r\n") || !gz {
				t.Fatalf("head:\n%s", s)
			}
			for _, w := range tc.want {
				if !strings.Contains(s, w) {
					t.Errorf("head lacks %q:\n%s", w, s)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(s, a) {
					t.Errorf("head has %q:\n%s", a, s)
				}
			}
		})
	}
}

// TestH1ClientSlowBody: a body that comes in pieces, after the head and
// past the grace the head is read within, is read in full, chunked or
// not; each wait has the whole Timeout.
func TestH1ClientSlowBody(t *testing.T) {
	for _, tc := range []struct{ name, first, rest, want string }{
		{"chunked, the size line cut", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r", "\nhello\r\n0\r\n\r\n", "hello"},
		{"chunked, the trailer late", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n", "X-T: 1\r\n\r\n", "hello"},
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", "world", "helloworld"},
		{"until close", "HTTP/1.1 200 OK\r\n\r\nhello", "world", "helloworld"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newRawNode(t, func(r *http.Request, c net.Conn) bool {
				io.WriteString(c, tc.first)
				time.Sleep(3 * abortGrace)
				io.WriteString(c, tc.rest)
				return false
			})
			c := NewH1Client(H1Options{Timeout: time.Minute})
			defer c.Close()
			code, body, err := roundTrip(context.Background(), c, n.addr(), h1Get("GET", "/"))
			if err != nil || code != 200 || body != tc.want {
				t.Fatalf("%d %q %v", code, body, err)
			}
		})
	}
}

// TestH1ClientNoReuseAfterASwitch: a connection a node switched to
// another protocol (101) is closed, not pooled.
func TestH1ClientNoReuseAfterASwitch(t *testing.T) {
	n := newRawNode(t, func(r *http.Request, c net.Conn) bool {
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: other\r\nConnection: Upgrade\r\n\r\n")
		return true
	})
	c := NewH1Client(H1Options{})
	defer c.Close()
	code, _, err := roundTrip(context.Background(), c, n.addr(), h1Get("GET", "/"))
	if err != nil || code != 101 {
		t.Fatalf("%d %v", code, err)
	}
	if got := c.Idle(n.addr()); got != 0 {
		t.Fatalf("%d idle connections after a 101; want none", got)
	}
}
