package balancer

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// WebSocketProxy tunnels WebSocket upgrades to the pool's nodes: it picks
// a node as [Pool.Select] does, dials it (trying the others on failure
// within TryDuration), forwards the upgrade request, and once the node
// answers 101 hijacks the client connection, hands both connections to a
// two-goroutine tunnel and returns, so the server's goroutine and buffers
// are freed while the socket is open. The tunnel counts as a request in
// flight on its node, is closed by a drain, and counts its bytes. A node
// that does not answer 101 has its response relayed as is.
//
// The zero value is not useful; set Pool. It is safe for concurrent use.
type WebSocketProxy struct {
	Pool *Pool

	// DialTimeout bounds connecting to a node; zero: Pool's DialTimeout.
	DialTimeout time.Duration
	// HandshakeTimeout bounds sending the upgrade request and reading the
	// node's response head; zero: Pool's ReadTimeout.
	HandshakeTimeout time.Duration
	// TryInterval is the wait before trying every active node again after
	// all failed to connect; zero: 250 ms.
	TryInterval time.Duration
	// FinTimeout is how long one direction of a tunnel stays open after
	// the other ended cleanly (a half-close); zero: 30 s.
	FinTimeout time.Duration
	// UnwrapConn, if set, returns the connection under a server's wrapper
	// of the hijacked client connection, when reading it directly is
	// safe; the tunnel idles without a buffer only on a socket it can
	// reach (a *net.TCPConn). nil: the connection is used as hijacked.
	UnwrapConn func(net.Conn) net.Conn
}

// IsWebSocketUpgrade reports whether r is an HTTP/1.1 WebSocket upgrade,
// the only kind [WebSocketProxy.ServeHTTP] tunnels. (An HTTP/2 extended
// CONNECT is left to the caller's other proxy.)
func IsWebSocketUpgrade(r *http.Request) bool {
	return r.ProtoMajor == 1 && r.Method == http.MethodGet &&
		headerHasToken(r.Header, "Connection", "upgrade") &&
		strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// HandshakeError is a failure to set up a tunnel, with the status the
// client should get: 503 when no node is active, 502 when no node could be
// reached or answered.
type HandshakeError struct {
	Status int
	Err    error
}

func (e *HandshakeError) Error() string { return fmt.Sprintf("websocket tunnel: %v", e.Err) }
func (e *HandshakeError) Unwrap() error { return e.Err }

// ServeHTTP tunnels the upgrade request r. It returns nil once the tunnel
// runs (or the node's non-101 answer was relayed), and a *HandshakeError
// when nothing was written to w yet. r must satisfy [IsWebSocketUpgrade].
func (p *WebSocketProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) error {
	cfg := p.Pool.cfg.Load()
	dialTimeout := orDefault(p.DialTimeout, cfg.DialTimeout)
	hsTimeout := orDefault(p.HandshakeTimeout, cfg.ReadTimeout)
	start := time.Now()
	var tried []*Node
	var lastErr error
	for {
		n := p.Pool.Select(tried...)
		if n == nil {
			if len(tried) == 0 && lastErr == nil {
				return &HandshakeError{Status: http.StatusServiceUnavailable, Err: ErrNoNode}
			}
			if time.Since(start) >= cfg.TryDuration || r.Context().Err() != nil {
				if lastErr == nil {
					lastErr = ErrNoNode
				}
				return &HandshakeError{Status: http.StatusBadGateway, Err: lastErr}
			}
			select {
			case <-r.Context().Done():
			case <-time.After(orDefault(p.TryInterval, 250*time.Millisecond)):
			}
			tried = tried[:0]
			continue
		}
		n.Begin()
		done, err := p.try(w, r, n, dialTimeout, hsTimeout)
		if done {
			return err
		}
		n.End()
		if r.Context().Err() == nil {
			n.ReportFailure(err)
		}
		tried, lastErr = append(tried, n), err
	}
}

// try dials n and performs the handshake. done is false when the node
// could not be reached (try another; the caller ends n's count); when done
// is true, n's count is ended or owned by the tunnel.
func (p *WebSocketProxy) try(w http.ResponseWriter, r *http.Request, n *Node, dialTimeout, hsTimeout time.Duration) (done bool, err error) {
	ctx, cancel := context.WithTimeout(r.Context(), dialTimeout)
	conn, err := (&net.Dialer{KeepAlive: 15 * time.Second}).DialContext(ctx, "tcp", n.addr)
	cancel()
	if err != nil {
		return false, fmt.Errorf("dialing %s: %w", n.addr, err)
	}
	_ = conn.SetDeadline(time.Now().Add(hsTimeout))
	if _, err := conn.Write(requestHead(r)); err != nil {
		conn.Close()
		return false, fmt.Errorf("sending the upgrade to %s: %w", n.addr, err)
	}
	// Read the response head without a bufio.Reader: whatever follows it
	// (the node's first frames) goes to the client with it.
	var head [4096]byte
	got, end := 0, -1
	for end < 0 {
		if got == len(head) {
			conn.Close()
			n.End()
			return true, &HandshakeError{Status: http.StatusBadGateway, Err: fmt.Errorf("%s: response head over %d bytes", n.addr, len(head))}
		}
		k, err := conn.Read(head[got:])
		got += k
		end = bytes.Index(head[:got], []byte("\r\n\r\n"))
		if end < 0 && err != nil {
			conn.Close()
			if got == 0 {
				return false, fmt.Errorf("reading the upgrade response of %s: %w", n.addr, err)
			}
			n.End()
			return true, &HandshakeError{Status: http.StatusBadGateway, Err: fmt.Errorf("reading the upgrade response of %s: %w", n.addr, err)}
		}
	}
	if !bytes.HasPrefix(head[:got], []byte("HTTP/1.1 101")) && !bytes.HasPrefix(head[:got], []byte("HTTP/1.0 101")) {
		defer n.End()
		defer conn.Close()
		return true, relayResponse(w, r, io.MultiReader(bytes.NewReader(head[:got]), conn), n.addr)
	}
	n.ReportSuccess()
	client, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		conn.Close()
		n.End()
		return true, &HandshakeError{Status: http.StatusInternalServerError, Err: fmt.Errorf("hijacking the client connection: %w", err)}
	}
	if p.UnwrapConn != nil {
		client = p.UnwrapConn(client)
	}
	_ = conn.SetDeadline(time.Time{})
	_ = client.SetDeadline(time.Time{})
	// Bytes the client sent right behind its upgrade request sit in the
	// server's reader; they belong to the node.
	if k := brw.Reader.Buffered(); k > 0 {
		early, _ := brw.Reader.Peek(k)
		if _, err := conn.Write(early); err != nil {
			client.Close()
			conn.Close()
			n.End()
			return true, nil
		}
		n.AddBytes(k, 0)
	}
	if _, err := client.Write(head[:got]); err != nil {
		client.Close()
		conn.Close()
		n.End()
		return true, nil
	}
	n.AddBytes(0, got-(end+4))
	startTunnel(client, conn, n, orDefault(p.FinTimeout, 30*time.Second))
	return true, nil
}

// relayResponse copies a node's non-101 answer to w.
func relayResponse(w http.ResponseWriter, r *http.Request, src io.Reader, addr string) error {
	resp, err := http.ReadResponse(bufio.NewReader(src), r)
	if err != nil {
		return &HandshakeError{Status: http.StatusBadGateway, Err: fmt.Errorf("parsing the upgrade response of %s: %w", addr, err)}
	}
	defer resp.Body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
	return nil
}

// requestHead is the upgrade request as the node gets it: method, URI,
// Host and the client's headers (Connection and Upgrade kept), with
// X-Real-IP, X-Forwarded-For, X-Forwarded-Proto and X-Forwarded-Host set
// by the front door, as the HA guide's NGINX config does.
func requestHead(r *http.Request) []byte {
	clientIP, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		clientIP = r.RemoteAddr
	}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	b := make([]byte, 0, 1024)
	b = append(b, r.Method...)
	b = append(b, ' ')
	b = append(b, r.URL.RequestURI()...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, r.Host...)
	b = append(b, "\r\n"...)
	for k, vs := range r.Header {
		switch k {
		case "X-Real-Ip", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Host":
			continue
		}
		for _, v := range vs {
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	for _, kv := range [...][2]string{{"X-Real-Ip", clientIP}, {"X-Forwarded-For", clientIP}, {"X-Forwarded-Proto", proto}, {"X-Forwarded-Host", r.Host}} {
		b = append(b, kv[0]...)
		b = append(b, ": "...)
		b = append(b, kv[1]...)
		b = append(b, "\r\n"...)
	}
	return append(b, "\r\n"...)
}

// orDefault returns v, or def when v is zero.
func orDefault(v, def time.Duration) time.Duration {
	if v == 0 {
		return def
	}
	return v
}
