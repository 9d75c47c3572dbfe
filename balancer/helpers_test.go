package balancer

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock that moves only when told; Advance runs the due
// timers in order, in the caller's goroutine.
type fakeClock struct {
	mu     sync.Mutex // guards now and timers
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *fakeClock
	at      time.Time
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	i := slices.Index(t.c.timers, t)
	if i < 0 {
		return false
	}
	t.c.timers = slices.Delete(t.c.timers, i, i+1)
	return was
}

// Advance moves the clock by d, running every timer that falls due on
// the way at its own time.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		var next *fakeTimer
		for _, t := range c.timers {
			if !t.at.After(end) && (next == nil || t.at.Before(next.at)) {
				next = t
			}
		}
		if next == nil {
			c.now = end
			c.mu.Unlock()
			return
		}
		c.timers = slices.DeleteFunc(c.timers, func(t *fakeTimer) bool { return t == next })
		if next.at.After(c.now) {
			c.now = next.at
		}
		c.mu.Unlock()
		next.f()
	}
}

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu      sync.Mutex
	changes []Change
	probes  []Probe
	closed  map[string]int
}

func (r *recorder) StateChanged(c Change) {
	r.mu.Lock()
	r.changes = append(r.changes, c)
	r.mu.Unlock()
}

func (r *recorder) Probed(p Probe) {
	r.mu.Lock()
	r.probes = append(r.probes, p)
	r.mu.Unlock()
}

func (r *recorder) StreamsClosed(_, node string, n int) {
	r.mu.Lock()
	if r.closed == nil {
		r.closed = map[string]int{}
	}
	r.closed[node] += n
	r.mu.Unlock()
}

// testConfig is DefaultConfig with the given static nodes.
func testConfig(nodes ...string) Config {
	c := DefaultConfig()
	c.Nodes = nodes
	return c
}

// newTestPool returns a pool on a fake clock whose prober is never
// started (the tests report probes themselves).
func newTestPool(t *testing.T, cfg Config) (*Pool, *fakeClock, *recorder) {
	t.Helper()
	clock, rec := newFakeClock(), &recorder{}
	p, err := NewPool(cfg, Options{Clock: clock, Observer: rec, Prober: ProberFunc(func(context.Context, string, string) (int, error) {
		return 0, errors.New("no prober in this test")
	})})
	if err != nil {
		t.Fatal(err)
	}
	return p, clock, rec
}

// state returns the state of the node at addr, StateRemoved if gone.
func state(p *Pool, addr string) State {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := p.nodes[addr]; n != nil {
		return n.state
	}
	return StateRemoved
}

// activate makes the node at addr active with its slow start over.
func activate(t *testing.T, p *Pool, c *fakeClock, addr string) *Node {
	t.Helper()
	n := p.Node(addr)
	p.reportProbe(n, 200, nil, time.Millisecond)
	if s := state(p, addr); s != StateActive {
		t.Fatalf("%s is %s after a passed probe; want active", addr, s)
	}
	return n
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
