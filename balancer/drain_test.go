package balancer

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// closeLog is a Stream that records when it was closed.
type closeLog struct {
	mu     sync.Mutex
	c      *fakeClock
	n      *Node
	closed []time.Time
}

type loggedStream struct {
	log  *closeLog
	once sync.Once
}

func (s *loggedStream) Close() error {
	s.once.Do(func() {
		s.log.mu.Lock()
		s.log.closed = append(s.log.closed, s.log.c.Now())
		s.log.mu.Unlock()
		// As a tunnel does when its connections close.
		s.log.n.RemoveStream(s)
		s.log.n.End()
	})
	return nil
}

func TestDrain(t *testing.T) {
	tests := []struct {
		name      string
		requests  int // in flight when the drain starts
		streams   int // WebSockets open when the drain starts
		grace     time.Duration
		spread    time.Duration
		wantFirst time.Duration // after the drain's start
		wantLast  time.Duration
	}{
		{"idle node is drained at once", 0, 0, time.Second, 2 * time.Second, 0, 0},
		{"requests in flight finish first", 20, 0, time.Second, 2 * time.Second, 0, 0},
		{"50 sockets closed after the grace over the spread", 20, 50, time.Second, 2 * time.Second, time.Second, 2900 * time.Millisecond},
		{"5 sockets still spread over the window", 0, 5, time.Second, 2 * time.Second, time.Second, 2600 * time.Millisecond},
		{"zero spread closes all at once", 0, 10, time.Second, 0, time.Second, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("10.0.0.1:8065", "10.0.0.2:8065")
			cfg.DrainGrace, cfg.DrainSpread = tt.grace, tt.spread
			p, c, rec := newTestPool(t, cfg)
			n := activate(t, p, c, "10.0.0.1:8065")
			other := activate(t, p, c, "10.0.0.2:8065")
			log := &closeLog{c: c, n: n}
			for range tt.requests {
				n.Begin()
			}
			for range tt.streams {
				n.Begin()
				n.AddStream(&loggedStream{log: log})
			}
			start := c.Now()
			st, err := p.Drain(n.addr)
			if err != nil {
				t.Fatal(err)
			}
			if tt.requests+tt.streams == 0 {
				if st.State != "drained" {
					t.Fatalf("idle node is %s after Drain; want drained", st.State)
				}
				return
			}
			if st.State != "draining" || st.DrainBy != DrainByAdmin {
				t.Fatalf("status after Drain: %+v; want draining by admin", st)
			}
			for range 10 {
				if got := p.Select(); got != other {
					t.Fatalf("a new request went to %v while %s drains", got, n.addr)
				}
			}
			for range tt.requests {
				n.End()
			}
			c.Advance(tt.grace - time.Millisecond)
			if len(log.closed) != 0 {
				t.Fatalf("%d sockets closed before the grace ended", len(log.closed))
			}
			c.Advance(tt.spread + time.Second)
			if len(log.closed) != tt.streams {
				t.Fatalf("%d of %d sockets closed after grace and spread", len(log.closed), tt.streams)
			}
			if tt.streams > 0 {
				first, last := log.closed[0].Sub(start), log.closed[len(log.closed)-1].Sub(start)
				if first != tt.wantFirst || last < tt.wantLast || last > tt.grace+tt.spread {
					t.Fatalf("sockets closed from +%s to +%s; want from +%s to at least +%s, within grace+spread", first, last, tt.wantFirst, tt.wantLast)
				}
				if rec.closed[n.addr] != tt.streams {
					t.Fatalf("observer saw %d forced closes; want %d", rec.closed[n.addr], tt.streams)
				}
			}
			if got := state(p, n.addr); got != StateDrained {
				t.Fatalf("%s after everything ended; want drained", got)
			}
			if _, err := p.Undrain(n.addr); err != nil {
				t.Fatal(err)
			}
			if got := state(p, n.addr); got != StateActive {
				t.Fatalf("%s after undrain; want active", got)
			}
		})
	}
}

func TestUndrainStopsPendingCloses(t *testing.T) {
	cfg := testConfig("10.0.0.1:8065")
	cfg.DrainGrace, cfg.DrainSpread = time.Second, time.Second
	p, c, _ := newTestPool(t, cfg)
	n := activate(t, p, c, "10.0.0.1:8065")
	log := &closeLog{c: c, n: n}
	for range 4 {
		n.Begin()
		n.AddStream(&loggedStream{log: log})
	}
	if _, err := p.Drain(n.addr); err != nil {
		t.Fatal(err)
	}
	c.Advance(1200 * time.Millisecond) // grace over, first batches closed
	closed := len(log.closed)
	if closed == 0 || closed == 4 {
		t.Fatalf("%d of 4 closed 200ms into the spread; want some", closed)
	}
	if _, err := p.Undrain(n.addr); err != nil {
		t.Fatal(err)
	}
	c.Advance(5 * time.Second)
	if len(log.closed) != closed {
		t.Fatalf("%d closed after the undrain; want still %d", len(log.closed), closed)
	}
}

func TestGossipDrainEndsWithTheAnnouncement(t *testing.T) {
	p, c, _ := newTestPool(t, testConfig("10.0.0.1:8065"))
	n := activate(t, p, c, "10.0.0.1:8065")
	n.Begin()
	p.discover(n.addr, true)
	if st, _ := p.Status(n.addr); st.State != "draining" || st.DrainBy != DrainByGossip {
		t.Fatalf("after gossip state draining: %+v", st)
	}
	p.discover(n.addr, false)
	if got := state(p, n.addr); got != StateActive {
		t.Fatalf("after gossip state serving: %s; want active", got)
	}
	// An admin drain is not ended by the node's gossip.
	if _, err := p.Drain(n.addr); err != nil {
		t.Fatal(err)
	}
	p.discover(n.addr, false)
	if got := state(p, n.addr); got != StateDraining {
		t.Fatalf("admin drain after gossip serving: %s; want draining", got)
	}
	p.forget(n.addr)
	if got := state(p, n.addr); got != StateDraining {
		t.Fatalf("a static node that leaves the gossip is %s; want it kept", got)
	}
}

func TestGossipDrainAnnouncedWhileUnhealthyDrains(t *testing.T) {
	cfg := testConfig("10.0.0.1:8065")
	cfg.HealthPasses = 1
	p, c, _ := newTestPool(t, cfg)
	n := activate(t, p, c, "10.0.0.1:8065")
	n.ReportFailure(errors.New("connection refused"))
	if got := state(p, n.addr); got != StateUnhealthy {
		t.Fatalf("after a refused connection: %s; want unhealthy", got)
	}
	p.discover(n.addr, true) // the announcement arrives while it is unhealthy
	p.reportProbe(n, 200, nil, 0)
	st, _ := p.Status(n.addr)
	if st.State != "draining" && st.State != "drained" || st.DrainBy != DrainByGossip {
		t.Fatalf("healthy again after announcing a drain: %+v; want draining by gossip", st)
	}
}
