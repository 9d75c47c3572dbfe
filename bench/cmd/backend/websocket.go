package main

import (
	"bufio"
	"net"
	"net/http"
	"strings"

	"github.com/seed331fb32b/chorus/bench/internal/wsframe"
)

// serveWebSocket upgrades the request and echoes every data frame until the
// client closes. It answers pings and close frames as RFC 6455 §5.5 asks.
func (b *backend) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || key == "" {
		http.Error(w, "expected a WebSocket upgrade", http.StatusBadRequest)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "cannot hijack", http.StatusInternalServerError)
		return
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return
	}
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + wsframe.AcceptKey(key) + "\r\n\r\n"
	if _, err := conn.Write([]byte(resp)); err != nil {
		_ = conn.Close()
		return
	}
	b.mu.Lock()
	b.sockets[conn] = struct{}{}
	b.mu.Unlock()
	b.count.wsOpen.Add(1)
	b.socketsDone.Add(1)
	// The handler returns and the echo loop goes on in its own goroutine, so
	// net/http's per-connection state is freed while the socket is open.
	go b.echo(conn, brw.Reader)
}

// echo runs one WebSocket until either side closes it.
func (b *backend) echo(conn net.Conn, r *bufio.Reader) {
	defer func() {
		_ = conn.Close()
		b.mu.Lock()
		delete(b.sockets, conn)
		b.mu.Unlock()
		b.count.wsOpen.Add(-1)
		b.socketsDone.Done()
	}()
	var in, out []byte
	for {
		var f wsframe.Frame
		var err error
		f, in, err = wsframe.Read(r, in)
		if err != nil {
			return
		}
		switch f.Opcode {
		case wsframe.OpClose:
			_, _ = wsframe.Write(conn, wsframe.OpClose, f.Payload, nil, out)
			return
		case wsframe.OpPing:
			out, err = wsframe.Write(conn, wsframe.OpPong, f.Payload, nil, out)
		case wsframe.OpPong:
		default:
			out, err = wsframe.Write(conn, f.Opcode, f.Payload, nil, out)
		}
		if err != nil {
			return
		}
	}
}

// closeSockets closes every open WebSocket and waits for the echo loops.
func (b *backend) closeSockets() {
	b.mu.Lock()
	for c := range b.sockets {
		_ = c.Close()
	}
	b.mu.Unlock()
	b.socketsDone.Wait()
}
