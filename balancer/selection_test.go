package balancer

import (
	"fmt"
	"testing"
	"time"
)

func TestLeastConnectionsCountsWebSockets(t *testing.T) {
	cfg := testConfig("10.0.0.1:8065", "10.0.0.2:8065")
	cfg.SlowStart = 0
	p, c, _ := newTestPool(t, cfg)
	a := activate(t, p, c, "10.0.0.1:8065")
	b := activate(t, p, c, "10.0.0.2:8065")
	// Three open WebSockets on a: every new request goes to b until b has
	// three too.
	for range 3 {
		a.Begin()
		a.AddStream(&nopStream{})
	}
	for i := range 3 {
		got := p.Select()
		if got != b {
			t.Fatalf("pick %d: %s; want %s, which holds no WebSocket", i, got.addr, b.addr)
		}
		got.Begin()
	}
	seen := map[*Node]int{}
	for range 200 {
		seen[p.Select()]++
	}
	if seen[a] == 0 || seen[b] == 0 {
		t.Fatalf("with equal loads, ties went %d/%d; want both chosen", seen[a], seen[b])
	}
}

type nopStream struct{}

func (*nopStream) Close() error { return nil }

// TestSlowStartGrowsTheNewNodesShare simulates a reconnect storm: two nodes
// hold 100 WebSockets each when a third becomes active; 300 clients then
// connect at once, at various times into its slow start. The new node's
// share grows with its time active and is the plain least-connections
// share once slow_start has passed.
func TestSlowStartGrowsTheNewNodesShare(t *testing.T) {
	tests := []struct {
		elapsed  time.Duration
		min, max int // the new node's sockets out of the 300
	}{
		{0, 5, 20},                        // weight 0.05: (k+1)/0.05 ≤ others' load
		{7500 * time.Millisecond, 40, 70}, // weight 0.25
		{15 * time.Second, 85, 115},       // weight 0.5
		{30 * time.Second, 165, 170},      // plain least connections: 166 or 167 each
		{time.Hour, 165, 170},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.elapsed), func(t *testing.T) {
			cfg := testConfig("10.0.0.1:8065", "10.0.0.2:8065", "10.0.0.3:8065")
			cfg.SlowStart = 30 * time.Second
			p, c, _ := newTestPool(t, cfg)
			old := []*Node{activate(t, p, c, "10.0.0.1:8065"), activate(t, p, c, "10.0.0.2:8065")}
			c.Advance(time.Hour)
			for _, n := range old {
				for range 100 {
					n.Begin()
				}
			}
			fresh := activate(t, p, c, "10.0.0.3:8065")
			c.Advance(tt.elapsed)
			got := 0
			for range 300 {
				n := p.Select()
				n.Begin()
				if n == fresh {
					got++
				}
			}
			if got < tt.min || got > tt.max {
				t.Fatalf("new node got %d of 300 new sockets %s into slow start; want %d to %d", got, tt.elapsed, tt.min, tt.max)
			}
		})
	}
}

func TestSelectSkipsTriedNodes(t *testing.T) {
	p, c, _ := newTestPool(t, testConfig("10.0.0.1:8065", "10.0.0.2:8065"))
	a := activate(t, p, c, "10.0.0.1:8065")
	b := activate(t, p, c, "10.0.0.2:8065")
	if got := p.Select(a); got != b {
		t.Fatalf("Select(skip a) = %v; want b", got)
	}
	if got := p.Select(a, b); got != nil {
		t.Fatalf("Select(skip both) = %v; want nil", got)
	}
}

func BenchmarkSelect(b *testing.B) {
	for _, nodes := range []int{3, 10} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) {
			var addrs []string
			for i := range nodes {
				addrs = append(addrs, fmt.Sprintf("10.0.0.%d:8065", i+1))
			}
			p, err := NewPool(testConfig(addrs...), Options{})
			if err != nil {
				b.Fatal(err)
			}
			for _, a := range addrs {
				p.reportProbe(p.Node(a), 200, nil, 0)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := p.Select()
					n.Begin()
					n.End()
				}
			})
		})
	}
}
