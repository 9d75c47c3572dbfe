package balancer

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestProbesMoveANode(t *testing.T) {
	// Each step is one probe's status (0: no answer) and the state after it,
	// with HealthPasses 2 and HealthFails 2.
	type step struct {
		status int
		want   State
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"joining node is active after one pass", []step{{200, StateActive}}},
		{"joining node that never answers stays joining", []step{{0, StateJoining}, {0, StateJoining}, {500, StateJoining}}},
		{"one failed probe keeps an active node", []step{{200, StateActive}, {0, StateActive}, {200, StateActive}, {0, StateActive}}},
		{"health_fails failed probes take it out", []step{{200, StateActive}, {0, StateActive}, {500, StateUnhealthy}}},
		{"health_passes passes bring it back", []step{{200, StateActive}, {0, StateActive}, {0, StateUnhealthy}, {200, StateUnhealthy}, {200, StateActive}}},
		{"a failure between passes restarts the count", []step{{200, StateActive}, {0, StateActive}, {0, StateUnhealthy}, {200, StateUnhealthy}, {0, StateUnhealthy}, {200, StateUnhealthy}, {200, StateActive}}},
		{"ping 503 announces a drain", []step{{200, StateActive}, {503, StateDrained}}},
		{"ping 200 after 503 ends the node's drain", []step{{200, StateActive}, {503, StateDrained}, {200, StateActive}}},
		{"joining node answering 503 goes straight to draining", []step{{503, StateDrained}, {200, StateActive}}},
		{"draining node that dies stays drained", []step{{200, StateActive}, {503, StateDrained}, {0, StateDrained}, {0, StateDrained}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("10.0.0.1:8065")
			cfg.HealthPasses, cfg.HealthFails = 2, 2
			p, _, _ := newTestPool(t, cfg)
			n := p.Node("10.0.0.1:8065")
			for i, s := range tt.steps {
				var err error
				if s.status == 0 {
					err = errors.New("connection refused")
				}
				p.reportProbe(n, s.status, err, time.Millisecond)
				if got := state(p, n.addr); got != s.want {
					t.Fatalf("after probe %d (status %d): %s; want %s", i+1, s.status, got, s.want)
				}
			}
		})
	}
}

func TestOnlyActiveNodesAreSelectable(t *testing.T) {
	p, c, _ := newTestPool(t, testConfig("10.0.0.1:8065", "10.0.0.2:8065", "10.0.0.3:8065"))
	if got := p.Select(); got != nil {
		t.Fatalf("Select with every node joining = %s; want nil", got.addr)
	}
	a := activate(t, p, c, "10.0.0.1:8065")
	activate(t, p, c, "10.0.0.2:8065")
	if got := len(p.Active()); got != 2 {
		t.Fatalf("%d active nodes; want 2", got)
	}
	if _, err := p.Drain(a.addr); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if got := p.Select(); got == nil || got.addr != "10.0.0.2:8065" {
			t.Fatalf("Select after draining %s = %v; want 10.0.0.2:8065", a.addr, got)
		}
	}
}

func TestPassiveFailures(t *testing.T) {
	tests := []struct {
		name         string
		passiveFails int
		failures     int
		success      bool // a success after the failures
		want         State
	}{
		{"one refused connection takes a node out", 1, 1, false, StateUnhealthy},
		{"fewer failures than passive_fails keep it", 3, 2, false, StateActive},
		{"passive_fails failures take it out", 3, 3, false, StateUnhealthy},
		{"a success restarts the count", 3, 2, true, StateActive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("10.0.0.1:8065")
			cfg.PassiveFails = tt.passiveFails
			p, c, _ := newTestPool(t, cfg)
			n := activate(t, p, c, "10.0.0.1:8065")
			for range tt.failures {
				n.ReportFailure(errors.New("connection refused"))
			}
			if tt.success {
				n.ReportSuccess()
				n.ReportFailure(errors.New("connection refused"))
			}
			if got := state(p, n.addr); got != tt.want {
				t.Fatalf("state %s; want %s", got, tt.want)
			}
		})
	}
}

func TestPassivelyFailedNodeNeedsHealthPasses(t *testing.T) {
	cfg := testConfig("10.0.0.1:8065")
	cfg.HealthPasses = 2
	p, c, _ := newTestPool(t, cfg)
	n := activate(t, p, c, "10.0.0.1:8065")
	n.ReportFailure(errors.New("connection refused"))
	p.reportProbe(n, 200, nil, 0)
	if got := state(p, n.addr); got != StateUnhealthy {
		t.Fatalf("after one pass: %s; want unhealthy", got)
	}
	p.reportProbe(n, 200, nil, 0)
	if got := state(p, n.addr); got != StateActive {
		t.Fatalf("after two passes: %s; want active", got)
	}
}

func TestReconfigureKeepsStatesAndSyncsTheStaticList(t *testing.T) {
	p, c, _ := newTestPool(t, testConfig("10.0.0.1:8065", "10.0.0.2:8065"))
	a := activate(t, p, c, "10.0.0.1:8065")
	a.Begin()
	cfg := testConfig("10.0.0.1:8065", "10.0.0.3:8065")
	cfg.HealthInterval = 7 * time.Second
	if err := p.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	if got := state(p, "10.0.0.1:8065"); got != StateActive {
		t.Errorf("kept node is %s; want active", got)
	}
	if got := state(p, "10.0.0.2:8065"); got != StateRemoved {
		t.Errorf("unlisted node is %s; want removed", got)
	}
	if got := state(p, "10.0.0.3:8065"); got != StateJoining {
		t.Errorf("new node is %s; want joining", got)
	}
	if st, _ := p.Status("10.0.0.1:8065"); st.InFlight != 1 {
		t.Errorf("kept node has %d in flight; want 1", st.InFlight)
	}
	if p.Config().HealthInterval != 7*time.Second {
		t.Errorf("health interval not applied")
	}
	cfg.Cluster = "other"
	if err := p.Reconfigure(cfg); err == nil || !strings.Contains(err.Error(), "rename") {
		t.Errorf("renaming the cluster: %v; want an error", err)
	}
}

func TestObserverSeesEveryChange(t *testing.T) {
	p, c, rec := newTestPool(t, testConfig("10.0.0.1:8065"))
	n := activate(t, p, c, "10.0.0.1:8065")
	if _, err := p.Drain(n.addr); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Undrain(n.addr); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ch := range rec.changes {
		got = append(got, ch.From.String()+">"+ch.To.String())
	}
	want := "removed>joining joining>active active>draining draining>drained drained>active"
	if strings.Join(got, " ") != want {
		t.Fatalf("changes %q; want %q", strings.Join(got, " "), want)
	}
	if _, err := p.Drain("10.9.9.9:1"); !errors.Is(err, ErrUnknownNode) {
		t.Fatalf("draining an unknown node: %v; want ErrUnknownNode", err)
	}
}

func TestNewPoolValidates(t *testing.T) {
	_, err := NewPool(Config{}, Options{})
	if err == nil {
		t.Fatal("NewPool(Config{}) succeeded")
	}
}
