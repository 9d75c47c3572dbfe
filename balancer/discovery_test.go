package balancer

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// appMember is an in-process memberlist member standing in for an app
// node's gossip (the app nodes' own side is node/cluster's), carrying the
// contract's metadata.
type appMember struct {
	ml   *memberlist.Memberlist
	mu   sync.Mutex
	meta MemberMeta
}

func (m *appMember) NodeMeta(int) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, _ := json.Marshal(m.meta)
	return b
}
func (*appMember) NotifyMsg([]byte)                {}
func (*appMember) GetBroadcasts(int, int) [][]byte { return nil }
func (*appMember) LocalState(bool) []byte          { return nil }
func (*appMember) MergeRemoteState([]byte, bool)   {}

// setState changes the member's state and gossips it.
func (m *appMember) setState(t *testing.T, state string) {
	m.mu.Lock()
	m.meta.State = state
	m.mu.Unlock()
	if err := m.ml.UpdateNode(time.Second); err != nil {
		t.Fatal(err)
	}
}

func (m *appMember) gossipAddr() string {
	n := m.ml.LocalNode()
	return net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
}

// startMember starts a member on bindIP with any free port, joined
// through join (if any).
func startMember(t *testing.T, bindIP, cluster string, key []byte, meta MemberMeta, join ...string) *appMember {
	t.Helper()
	m := &appMember{meta: meta}
	mc := memberlist.DefaultLocalConfig()
	mc.Name = meta.ID
	mc.BindAddr, mc.BindPort, mc.AdvertisePort = bindIP, 0, 0
	mc.Label, mc.SecretKey = cluster, key
	mc.ProbeInterval, mc.ProbeTimeout, mc.SuspicionMult, mc.GossipInterval = 500*time.Millisecond, 250*time.Millisecond, 2, 100*time.Millisecond
	mc.Delegate = m
	mc.LogOutput = io.Discard
	ml, err := memberlist.Create(mc)
	if err != nil {
		t.Fatalf("member on %s: %v", bindIP, err)
	}
	m.ml = ml
	t.Cleanup(func() { _ = ml.Shutdown() })
	if len(join) > 0 {
		if _, err := ml.Join(join); err != nil {
			t.Fatalf("joining %v: %v", join, err)
		}
	}
	return m
}

func appMeta(i int, api string) MemberMeta {
	return MemberMeta{Role: RoleApp, ID: fmt.Sprintf("node%022d", i), Version: "test", API: api, State: MetaServing}
}

func gossipConfig(join ...string) GossipConfig {
	g := DefaultGossipConfig()
	g.Join, g.BindAddr, g.BindPort = join, "127.0.0.1", 0
	g.RejoinInterval = 100 * time.Millisecond
	return g
}

func TestDiscoveryFollowsTheGossip(t *testing.T) {
	const cluster = "disc-test"
	key := []byte("0123456789abcdef0123456789abcdef")
	nodeA, nodeB := newFakeNode(t), newFakeNode(t)
	app1 := startMember(t, "127.0.0.2", cluster, key, appMeta(1, nodeA.addr()))

	cfg := DefaultConfig()
	cfg.Cluster = cluster
	g := gossipConfig(app1.gossipAddr())
	g.Key = key
	cfg.Gossip = &g
	cfg.HealthInterval = 50 * time.Millisecond
	p, err := NewPool(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	t.Cleanup(p.Stop)
	d, err := StartDiscovery(p, g, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Stop(time.Second) })

	waitFor(t, "node A learnt from the gossip and active", func() bool { return state(p, nodeA.addr()) == StateActive })

	// A front door and a member that is not an app are not nodes.
	startMember(t, "127.0.0.4", cluster, key, MemberMeta{Role: RoleProxy, ID: "proxy-other"}, app1.gossipAddr())
	app2 := startMember(t, "127.0.0.3", cluster, key, appMeta(2, nodeB.addr()), app1.gossipAddr())
	waitFor(t, "node B joining by gossip becomes active", func() bool { return state(p, nodeB.addr()) == StateActive })
	if got := len(p.Nodes()); got != 2 {
		t.Fatalf("%d nodes; want 2 (the proxy member is no node): %+v", got, p.Nodes())
	}
	if st, _ := p.Status(nodeB.addr()); len(st.Sources) != 1 || st.Sources[0] != "gossip" {
		t.Fatalf("node B sources %v; want [gossip]", st.Sources)
	}

	app2.setState(t, MetaDrainingState)
	waitFor(t, "node B draining on its gossip state", func() bool {
		st, _ := p.Status(nodeB.addr())
		return st.DrainBy == DrainByGossip
	})
	app2.setState(t, MetaServing)
	waitFor(t, "node B serving again", func() bool { return state(p, nodeB.addr()) == StateActive })

	// Death without a goodbye: memberlist's failure detector notices.
	if err := app2.ml.Shutdown(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "dead node B removed", func() bool { return state(p, nodeB.addr()) == StateRemoved })
	if state(p, nodeA.addr()) != StateActive {
		t.Fatalf("node A is %s; want active", state(p, nodeA.addr()))
	}
}

func TestDiscoveryRefusesAnotherCluster(t *testing.T) {
	nodeA := newFakeNode(t)
	app := startMember(t, "127.0.0.5", "cluster-one", nil, appMeta(1, nodeA.addr()))
	cfg := DefaultConfig()
	cfg.Cluster = "cluster-two"
	g := gossipConfig(app.gossipAddr())
	cfg.Gossip = &g
	p, err := NewPool(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := StartDiscovery(p, g, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop(time.Second)
	if d.Apps() != 0 || len(p.Nodes()) != 0 {
		t.Fatalf("a member of another cluster was learnt: %+v", p.Nodes())
	}
}

func TestDiscoveryRejoinsANodeStartedLater(t *testing.T) {
	nodeA := newFakeNode(t)
	// Reserve an address for the app member that starts after the front door.
	l, err := net.Listen("tcp", "127.0.0.6:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cfg := DefaultConfig()
	cfg.Cluster = "late"
	g := gossipConfig(net.JoinHostPort("127.0.0.6", strconv.Itoa(port)))
	cfg.Gossip = &g
	p, err := NewPool(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := StartDiscovery(p, g, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop(time.Second)

	m := &appMember{meta: appMeta(1, nodeA.addr())}
	mc := memberlist.DefaultLocalConfig()
	mc.Name, mc.BindAddr, mc.BindPort, mc.AdvertisePort = m.meta.ID, "127.0.0.6", port, port
	mc.Label, mc.Delegate, mc.LogOutput = "late", m, io.Discard
	ml, err := memberlist.Create(mc)
	if err != nil {
		t.Skipf("the reserved port was taken meanwhile: %v", err)
	}
	defer ml.Shutdown()
	waitFor(t, "the late node learnt", func() bool { return p.Node(nodeA.addr()) != nil })
}

func TestGossipConfigValidate(t *testing.T) {
	g := DefaultGossipConfig()
	if err := g.Validate(); err == nil {
		t.Error("no join address accepted")
	}
	g.Join = []string{"127.0.0.1:8074"}
	if err := g.Validate(); err != nil {
		t.Error(err)
	}
	g.Key = []byte("short")
	if err := g.Validate(); err == nil {
		t.Error("a 5-byte key accepted")
	}
	g.Key, g.Join = nil, []string{"nohost"}
	if err := g.Validate(); err == nil {
		t.Error("a join address without port accepted")
	}
}
