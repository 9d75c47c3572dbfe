package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// gossipMember stands in for an app node's gossip until the nodes gossip
// themselves (the clustering issue): a memberlist member on its own
// loopback address whose metadata follows the gossip contract and points
// at a real node's API.
type gossipMember struct {
	ml   *memberlist.Memberlist
	meta []byte
}

func (m *gossipMember) NodeMeta(int) []byte             { return m.meta }
func (m *gossipMember) NotifyMsg([]byte)                {}
func (m *gossipMember) GetBroadcasts(int, int) [][]byte { return nil }
func (m *gossipMember) LocalState(bool) []byte          { return nil }
func (m *gossipMember) MergeRemoteState([]byte, bool)   {}

func startGossipMember(t *testing.T, ip, cluster, id, api string, join ...string) *gossipMember {
	t.Helper()
	m := &gossipMember{}
	m.meta, _ = json.Marshal(map[string]string{"role": "app", "id": id, "version": "e2e", "api": api, "state": "serving"})
	c := memberlist.DefaultLocalConfig()
	c.Name, c.Label = id, cluster
	c.BindAddr, c.BindPort, c.AdvertisePort = ip, 0, 0
	c.ProbeInterval, c.ProbeTimeout, c.SuspicionMult, c.GossipInterval = 500*time.Millisecond, 250*time.Millisecond, 2, 100*time.Millisecond
	c.Delegate, c.LogOutput = m, io.Discard
	ml, err := memberlist.Create(c)
	if err != nil {
		t.Fatalf("gossip member on %s: %v", ip, err)
	}
	m.ml = ml
	t.Cleanup(func() { _ = ml.Shutdown() })
	if len(join) > 0 {
		if _, err := ml.Join(join); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func (m *gossipMember) addr() string {
	n := m.ml.LocalNode()
	return net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
}

// TestFrontDoorGossipDiscovery: a front door configured with gossip only
// learns a node when its member joins, sends it traffic with no config
// change, and drops it when the member dies.
func TestFrontDoorGossipDiscovery(t *testing.T) {
	const cluster = "e2e-gossip"
	db := filepath.Join(t.TempDir(), "chorus.db")
	n1, n2 := startAppNode(t, db), startAppNode(t, db)
	m1 := startGossipMember(t, "127.0.0.2", cluster, "node1", n1.addr)
	f := startFrontDoor(t, func(site, admin string) string {
		return fmt.Sprintf("{\n\tadmin %s\n\tpersist_config off\n}\nhttp://%s {\n\tchorus {\n\t\tcluster %s\n\t\tgossip %s {\n\t\t\tbind 127.0.0.1:0\n\t\t}\n\t\t%s\n\t\tslow_start 0s\n\t}\n}\n",
			admin, site, cluster, m1.addr(), fastHealth())
	})
	f.waitState(t, n1.addr, "active", 10*time.Second)
	client := &http.Client{Timeout: 5 * time.Second}
	if code, err := ping(client, f.url); err != nil || code != 200 {
		t.Fatalf("ping through the gossip-only front door: %d, %v", code, err)
	}

	m2 := startGossipMember(t, "127.0.0.3", cluster, "node2", n2.addr, m1.addr())
	took := f.waitState(t, n2.addr, "active", 10*time.Second)
	t.Logf("node 2 active %s after its member joined", took)
	for range 40 {
		if code, err := ping(client, f.url); err != nil || code != 200 {
			t.Fatalf("ping: %d, %v", code, err)
		}
	}
	st := f.nodes(t)[n2.addr]
	if st.Requests == 0 || len(st.Sources) != 1 || st.Sources[0] != "gossip" {
		t.Fatalf("node 2 after 40 requests: %+v; want traffic, source gossip", st)
	}

	if err := m2.ml.Shutdown(); err != nil { // dies without a goodbye
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "node 2 removed after its member died", func() bool {
		_, ok := f.nodes(t)[n2.addr]
		return !ok
	})
	for range 10 {
		if code, err := ping(client, f.url); err != nil || code != 200 {
			t.Fatalf("ping after node 2 left: %d, %v", code, err)
		}
	}
}
