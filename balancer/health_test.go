package balancer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeNode is an HTTP server answering the ping with a settable status.
type fakeNode struct {
	srv    *httptest.Server
	status atomic.Int32
	probes atomic.Int32
	lastQ  atomic.Value // the last probe's raw query
}

func newFakeNode(t *testing.T) *fakeNode {
	f := &fakeNode{}
	f.status.Store(200)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.probes.Add(1)
		f.lastQ.Store(r.URL.RawQuery)
		w.WriteHeader(int(f.status.Load()))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeNode) addr() string { return strings.TrimPrefix(f.srv.URL, "http://") }

func TestCheckerTakesOutAndBringsBack(t *testing.T) {
	a, b := newFakeNode(t), newFakeNode(t)
	cfg := testConfig(a.addr(), b.addr())
	cfg.HealthInterval, cfg.HealthTimeout = 20*time.Millisecond, time.Second
	cfg.HealthPasses, cfg.HealthFails = 2, 2
	cfg.ServerStatus = true
	rec := &recorder{}
	p, err := NewPool(cfg, Options{Observer: rec})
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	t.Cleanup(p.Stop)
	waitFor(t, "both nodes active", func() bool { return len(p.Active()) == 2 })
	if q, _ := a.lastQ.Load().(string); q != "get_server_status=true" {
		t.Errorf("probe query %q; want get_server_status=true", q)
	}

	a.status.Store(500)
	waitFor(t, "node a unhealthy", func() bool { return state(p, a.addr()) == StateUnhealthy })
	if got := p.Active(); len(got) != 1 || got[0].addr != b.addr() {
		t.Fatalf("active after a failed: %v", got)
	}
	a.status.Store(200)
	waitFor(t, "node a active again", func() bool { return state(p, a.addr()) == StateActive })

	a.status.Store(503)
	waitFor(t, "node a drained on its own announcement", func() bool { return state(p, a.addr()) == StateDrained })
	a.status.Store(200)
	waitFor(t, "node a back after withdrawing", func() bool { return state(p, a.addr()) == StateActive })

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.probes) == 0 || rec.probes[0].Latency <= 0 {
		t.Errorf("observer saw no probe latency")
	}
}

func TestOneCheckerPerPool(t *testing.T) {
	var probes atomic.Int32
	clock := newFakeClock()
	cfg := testConfig("10.0.0.1:8065")
	p, err := NewPool(cfg, Options{Clock: clock, Prober: ProberFunc(func(context.Context, string, string) (int, error) {
		probes.Add(1)
		return 200, nil
	})})
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	p.Start() // a second route or a reload starting it again adds no checker
	t.Cleanup(p.Stop)
	clock.mu.Lock()
	rounds := len(clock.timers)
	clock.mu.Unlock()
	if rounds != 1 {
		t.Fatalf("%d probe rounds scheduled after two Starts; want 1", rounds)
	}
	for i := range 3 {
		waitFor(t, "the round's probe to finish", func() bool {
			p.mu.Lock()
			defer p.mu.Unlock()
			return probes.Load() == int32(i+1) && !p.nodes["10.0.0.1:8065"].probing
		})
		clock.Advance(cfg.HealthInterval)
	}
}
