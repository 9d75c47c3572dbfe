package balancer

import (
	"bufio"
	"io"
	"net"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

// BenchmarkTunnelEcho is one 128-byte round trip through a tunnel (client
// → front door → node → back), against the same round trip straight to
// the node in the same run: the ratio is what the tunnel costs.
func BenchmarkTunnelEcho(b *testing.B) {
	backend := newUpgradeBackend(b, echo)
	msg := make([]byte, 128)
	var directNs float64 // the anchor measured in this run
	roundTrips := func(b *testing.B, c net.Conn, r *bufio.Reader) {
		buf := make([]byte, len(msg))
		b.ResetTimer()
		for b.Loop() {
			if _, err := c.Write(msg); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(r, buf); err != nil {
				b.Fatal(err)
			}
		}
		ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		if directNs == 0 {
			directNs = ns
		} else {
			b.ReportMetric(ns/directNs, "x-direct-time")
		}
	}
	b.Run("direct", func(b *testing.B) {
		c, err := net.Dial("tcp", backend.addr())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, upgradeRequest)
		r := bufio.NewReader(c)
		if _, err := r.ReadString('\n'); err != nil { // status line
			b.Fatal(err)
		}
		for { // rest of the head
			line, err := r.ReadString('\n')
			if err != nil {
				b.Fatal(err)
			}
			if line == "\r\n" {
				break
			}
		}
		roundTrips(b, c, r)
	})
	b.Run("tunnel", func(b *testing.B) {
		p := tunnelPool(b, backend.addr())
		front := frontDoor(b, p)
		c, r := dialTunnel(b, front, "")
		defer c.Close()
		roundTrips(b, c, r)
	})
}

// BenchmarkTunnelIdleMemory opens b.N (500 to 2,000) idle tunnels and
// reports the Go memory they hold each (goroutine stacks plus live heap),
// measured with runtime/metrics after a GC: what an open, idle WebSocket
// costs the front door in this package. The peers' sockets live in the
// same process, so their net.Conn values (about 0.3 KiB per tunnel) are
// included: an upper bound.
func BenchmarkTunnelIdleMemory(b *testing.B) {
	held := make(chan net.Conn, 1<<16)
	backend := newUpgradeBackend(b, func(c *net.TCPConn, _ *bufio.Reader) { held <- c })
	p := tunnelPool(b, backend.addr())
	front := frontDoor(b, p)
	n := min(max(b.N, 500), 2000) // bounded: 4 sockets per tunnel in this process
	before := goMemory()
	var clients []net.Conn
	for range n {
		c, err := net.Dial("tcp", front)
		if err != nil {
			b.Fatal(err)
		}
		io.WriteString(c, upgradeRequest)
		head := make([]byte, 0, 128)
		buf := make([]byte, 128)
		for !endsHead(head) {
			k, err := c.Read(buf)
			if err != nil {
				b.Fatal(err)
			}
			head = append(head, buf[:k]...)
		}
		clients = append(clients, c)
	}
	deadline := time.Now().Add(10 * time.Second)
	for p.Node(backend.addr()).streams.Load() != int64(n) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	after := goMemory()
	b.ReportMetric(float64(after-before)/float64(n)/1024, "KiB/tunnel")
	b.ReportMetric(0, "ns/op")
	for _, c := range clients {
		c.Close()
	}
	close(held)
	for c := range held {
		c.Close()
	}
}

func endsHead(b []byte) bool {
	return len(b) >= 4 && string(b[len(b)-4:]) == "\r\n\r\n"
}

// goMemory returns the Go memory in use after a GC: goroutine stacks plus
// live heap objects.
func goMemory() uint64 {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/stacks:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64()
}
