package cluster

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/seed331fb32b/chorus/node/config"
	"github.com/seed331fb32b/chorus/node/store"
	"github.com/seed331fb32b/chorus/node/store/storetest"
)

func TestMembersSeeEachOther(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 3) // waits until every node sees all three
	for i, n := range tc.nodes {
		if len(n.c.Members()) != 3 {
			t.Errorf("node %d sees %v", i, n.c.Members())
		}
	}
}

func TestAppEventFromOneNodeReachesEveryOtherNode(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 3)
	a, b, c := tc.nodes[0], tc.nodes[1], tc.nodes[2]
	for i := range 5 {
		if err := a.c.Send(t.Context(), EventInvalidateUser, []byte("user-"+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"user-0", "user-1", "user-2", "user-3", "user-4"}
	for _, n := range []*testNode{b, c} {
		tc.waitFor("inv_user on "+n.c.NodeID(), func() bool { return len(n.events.of(EventInvalidateUser)) == len(want) })
		if got := n.events.of(EventInvalidateUser); !slices.Equal(got, want) {
			t.Errorf("node %s got %v, want %v in order", n.c.NodeID(), got, want)
		}
	}
	if got := a.events.of(EventInvalidateUser); len(got) != 0 {
		t.Errorf("the sender handled its own event: %v", got)
	}
}

func TestReliableEventsSurviveLostDatagramsAndBestEffortOnesDoNot(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 3, withHubs())
	a, c := tc.nodes[0], tc.nodes[2]
	tc.members.setChannel("ch", "carol")
	carol := dialHub(t, c.wsURL, "carol", "", 0)
	carol.readEvent("hello")

	// Every datagram to node C is lost from now on; memberlist keeps C
	// alive through its TCP fallback probe.
	c.cut.dropUDPIn.Store(true)
	publish(t, a, "typing", "ch", "lost")                        // best effort: UDP
	publish(t, a, "posted", "ch", "1")                           // reliable: TCP
	_ = a.c.Send(t.Context(), EventUpdateStatus, []byte("away")) // best effort
	_ = a.c.Send(t.Context(), "test_marker", []byte("after"))    // reliable
	if f := carol.read(); f.Event != "posted" {
		t.Fatalf("with datagrams lost, carol got %q first, want the reliable posted", f.Event)
	}
	tc.waitFor("the reliable marker on C", func() bool { return len(c.events.of("test_marker")) == 1 })
	if got := c.events.of(EventUpdateStatus); len(got) != 0 {
		t.Errorf("a best-effort update_status crossed a network losing every datagram: %v", got)
	}

	c.cut.dropUDPIn.Store(false)
	publish(t, a, "typing", "ch", "arrives")
	f := carol.readEvent("typing")
	if !jsonHas(f.Data, "arrives") {
		t.Errorf("typing data = %s, want the second one", f.Data)
	}
}

func TestFrontDoorMemberIsIgnored(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 2)
	a := tc.nodes[0]
	// A front door joins with role proxy and, to make the point, an id
	// that would win any election.
	proxy := startProxyMember(t, tc.name, a.c.g.localAddr())
	tc.waitFor("the proxy to see both app nodes", func() bool { return proxy.NumMembers() == 3 })

	for i, n := range tc.nodes {
		if len(n.c.Members()) != 2 {
			t.Errorf("node %d counts the proxy: %v", i, n.c.Members())
		}
		if want := slices.Min(ids(tc.nodes)); n.c.Leader() != want {
			t.Errorf("node %d: leader %s, want the lowest app id %s", i, n.c.Leader(), want)
		}
		for _, info := range n.c.Status(t.Context()) {
			if info.ID == proxy.LocalNode().Name {
				t.Errorf("node %d lists the proxy in its status", i)
			}
		}
		n.c.mu.Lock()
		peers := len(n.c.peers)
		n.c.mu.Unlock()
		if peers != 1 {
			t.Errorf("node %d sends to %d peers, want 1 (the other app node)", i, peers)
		}
	}
}

// proxyDelegate is a front door's member: metadata only, counting the
// messages it receives.
type proxyDelegate struct{ meta []byte }

func (d proxyDelegate) NodeMeta(int) []byte               { return d.meta }
func (proxyDelegate) NotifyMsg([]byte)                    {}
func (proxyDelegate) GetBroadcasts(int, int) [][]byte     { return nil }
func (proxyDelegate) LocalState(bool) []byte              { return nil }
func (proxyDelegate) MergeRemoteState(buf []byte, _ bool) {}

// startProxyMember joins a front door's member (role proxy, named as the
// gossip contract says) to the cluster name through join.
func startProxyMember(t *testing.T, name, join string) *memberlist.Memberlist {
	t.Helper()
	meta, _ := json.Marshal(Meta{Role: RoleProxy, ID: "00000000000000000000000000", State: StateServing})
	mc := memberlist.DefaultLANConfig()
	mc.Name = "proxy-test-" + newID()[:6]
	mc.Label = name
	mc.BindAddr, mc.BindPort = loopbackIP(), 0
	mc.ProbeInterval, mc.ProbeTimeout, mc.SuspicionMult, mc.GossipInterval = 500*time.Millisecond, 250*time.Millisecond, 2, 100*time.Millisecond
	mc.Delegate = proxyDelegate{meta: meta}
	mc.LogOutput = io.Discard
	ml, err := memberlist.Create(mc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ml.Shutdown() })
	if _, err := ml.Join([]string{join}); err != nil {
		t.Fatalf("proxy join: %v", err)
	}
	return ml
}

func TestLeaderIsTheLowestIDAndMovesWhenItStops(t *testing.T) {
	t.Parallel()
	for _, crash := range []bool{false, true} {
		name := "clean stop"
		if crash {
			name = "crash"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tc := newTestCluster(t, 3)
			sorted := slices.SortedFunc(slices.Values(tc.nodes), func(a, b *testNode) int {
				return compareStrings(a.c.NodeID(), b.c.NodeID())
			})
			first, second := sorted[0], sorted[1]
			tc.waitFor("every node to agree on the lowest id", func() bool {
				for _, n := range tc.nodes {
					if n.c.Leader() != first.c.NodeID() {
						return false
					}
				}
				return true
			})
			if !first.c.IsLeader() || second.c.IsLeader() {
				t.Fatalf("IsLeader: first %v, second %v", first.c.IsLeader(), second.c.IsLeader())
			}
			waitLeaderEvent(t, first, leaderEvent{first.c.NodeID(), true})

			if crash {
				first.c.halt()
			} else if err := first.c.Stop(t.Context()); err != nil {
				t.Fatal(err)
			}
			took := tc.waitFor("a new leader on the others", func() bool {
				return second.c.IsLeader() && sorted[2].c.Leader() == second.c.NodeID()
			})
			t.Logf("%s of the leader: new leader after %s (target %s)", name, took.Round(time.Millisecond), detectTarget)
			waitLeaderEvent(t, second, leaderEvent{second.c.NodeID(), true})
			waitLeaderEvent(t, sorted[2], leaderEvent{second.c.NodeID(), false})
		})
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// waitLeaderEvent waits for the hook call want on n, skipping others.
func waitLeaderEvent(t *testing.T, n *testNode, want leaderEvent) {
	t.Helper()
	deadline := time.After(longStop)
	for {
		select {
		case got := <-n.leaders:
			if got == want {
				return
			}
		case <-deadline:
			t.Fatalf("node %s: no leader hook call %+v", n.c.NodeID(), want)
		}
	}
}

func TestNodeCutOffIsMarkedDownAndRejoinsWhenRestored(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 3)
	a, b, c := tc.nodes[0], tc.nodes[1], tc.nodes[2]
	pair := ids([]*testNode{a, b})

	c.cut.cut.Store(true)
	took := tc.waitFor("A and B to mark C down", func() bool { return sees(a, pair) && sees(b, pair) })
	t.Logf("cut-off node marked down after %s (target %s)", took.Round(time.Millisecond), detectTarget)
	tc.waitFor("C to find itself alone", func() bool { return sees(c, ids([]*testNode{c})) })

	c.cut.cut.Store(false)
	took = tc.waitFor("the three to merge again", func() bool {
		all := ids(tc.nodes)
		return sees(a, all) && sees(b, all) && sees(c, all)
	})
	t.Logf("restored node merged after %s", took.Round(time.Millisecond))
}

func TestClusterWithAnotherNameStaysSeparateOnTheSameDatabase(t *testing.T) {
	t.Parallel()
	x := newTestCluster(t, 2)
	y := &testCluster{t: t, name: x.name + "-other", db: x.db, members: x.members}
	for _, n := range x.nodes { // the same addresses, other ports
		y.nodes = append(y.nodes, y.start(y.testConfig(n.c.cfg.Settings.BindAddress), y.db))
	}
	y.waitConverged()

	// Even told to join across, the label refuses it.
	if n, err := y.node(0).g.join([]string{x.node(0).g.localAddr()}); err == nil || n != 0 {
		t.Fatalf("join across clusters = %d, %v; want a refusal", n, err)
	}
	rows, err := x.db.ClusterDiscovery().GetAll(t.Context(), Type, x.name, 0)
	if err != nil || len(rows) != 2 {
		t.Fatalf("discovery rows of %s: %d, %v; want 2", x.name, len(rows), err)
	}
	for _, tc := range []*testCluster{x, y} {
		want := ids(tc.nodes)
		for _, n := range tc.nodes {
			if !sees(n, want) {
				t.Errorf("cluster %s node %s sees %v, want %v", tc.name, n.c.NodeID(), n.c.Members(), want)
			}
		}
	}
}

func TestNodeWithAnotherKeyIsRefused(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 2, withEncryption())
	if _, err := tc.db.System().Get(t.Context(), KeyName); err != nil {
		t.Fatalf("no %s row after an encrypted start: %v", KeyName, err)
	}
	target := tc.node(0).g.localAddr()
	for _, name := range []string{"another key", "no key"} {
		t.Run(name, func(t *testing.T) {
			// Same cluster name, its own database: its own key.
			other := storetest.Open(t, config.DriverSQLite)
			cfg := tc.testConfig(loopbackIP())
			cfg.Settings.EnableGossipEncryption = name == "another key"
			stranger := tc.start(cfg, other)
			if n, err := stranger.c.g.join([]string{target}); err == nil || n != 0 {
				t.Fatalf("join with %s = %d, %v; want a refusal", name, n, err)
			}
			if len(stranger.c.Members()) != 1 {
				t.Errorf("stranger sees %v", stranger.c.Members())
			}
			for _, n := range tc.nodes {
				if len(n.c.Members()) != 2 {
					t.Errorf("node %s let the stranger in: %v", n.c.NodeID(), n.c.Members())
				}
			}
		})
	}
}

func TestPostOnOneNodeReachesSocketsOnTheOthers(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 3, withHubs())
	tc.members.setChannel("town-square", "alice", "bob", "carol")
	var clients []*wsClient
	for i, user := range []string{"alice", "bob", "carol"} {
		cl := dialHub(t, tc.nodes[i].wsURL, user, "", 0)
		cl.readEvent("hello")
		clients = append(clients, cl)
	}
	for i := range 3 {
		publish(t, tc.nodes[0], "posted", "town-square", "post-"+strconv.Itoa(i))
	}
	for _, cl := range clients {
		for i := range 3 {
			f := cl.readEvent("posted")
			if !jsonHas(f.Data, "post-"+strconv.Itoa(i)) {
				t.Errorf("event %d: data %s, want post-%d (in order)", i, f.Data, i)
			}
		}
	}
	// typing from B reaches A and C, and is delivered once on each.
	publish(t, tc.nodes[1], "typing", "town-square", "bob-typing")
	for _, i := range []int{0, 2} {
		if f := clients[i].readEvent("typing"); !jsonHas(f.Data, "bob-typing") {
			t.Errorf("client %d typing data %s", i, f.Data)
		}
	}
}

func TestFetchQueueMovesAConnectionToTheNodeItsClientReconnectedTo(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 3, withHubs())
	a, c := tc.nodes[0], tc.nodes[2]
	tc.members.setChannel("ch", "dave")
	first := dialHub(t, a.wsURL, "dave", "", 0)
	first.readEvent("hello")
	for i := range 3 {
		publish(t, a, "posted", "ch", "seen-"+strconv.Itoa(i))
		first.readEvent("posted")
	}
	connID, next := first.connID, first.next
	_ = first.conn.Close()
	tc.waitFor("A to notice the socket closed", func() bool { return a.hub.UserSocketCount("dave") == 0 })
	for i := range 2 {
		publish(t, a, "posted", "ch", "missed-"+strconv.Itoa(i))
	}

	// The client comes back through the front door, on node C.
	again := dialHub(t, c.wsURL, "dave", connID, next)
	for i := range 2 {
		f := again.read()
		if f.Event != "posted" || f.Seq != next+int64(i) || !jsonHas(f.Data, "missed-"+strconv.Itoa(i)) {
			t.Fatalf("replayed frame %d = %s seq %d %s; want posted seq %d missed-%d", i, f.Event, f.Seq, f.Data, next+int64(i), i)
		}
	}
	if _, ok := a.hub.TakeQueue("dave", connID); ok {
		t.Error("node A still holds the connection after handing it over")
	}
	// The moved connection is live on C: a new post reaches it there.
	publish(t, tc.nodes[1], "posted", "ch", "after")
	if f := again.readEvent("posted"); !jsonHas(f.Data, "after") {
		t.Errorf("post after the move: %s", f.Data)
	}

	// An unknown connection is found nowhere.
	if _, ok, err := c.c.FetchQueue(t.Context(), "dave", newID()); ok || err != nil {
		t.Errorf("FetchQueue of an unknown connection = %v, %v; want not found", ok, err)
	}
}

func TestRemoteSocketCountSeesSocketsOnOtherNodes(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 3, withHubs())
	a, b := tc.nodes[0], tc.nodes[1]
	count := func() int {
		n, err := a.c.RemoteSocketCount(t.Context(), "erin")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("before any socket: %d", n)
	}
	s1 := dialHub(t, b.wsURL, "erin", "", 0)
	s1.readEvent("hello")
	s2 := dialHub(t, tc.nodes[2].wsURL, "erin", "", 0)
	s2.readEvent("hello")
	dialHub(t, a.wsURL, "erin", "", 0).readEvent("hello") // local: not counted
	if n := count(); n != 2 {
		t.Fatalf("with a socket on B and on C: %d, want 2", n)
	}
	_ = s1.conn.Close()
	_ = s2.conn.Close()
	tc.waitFor("the sockets to close", func() bool { return count() == 0 })
}

func TestStatusListsEveryNodeAndFlagsClockSkew(t *testing.T) {
	t.Parallel()
	const skew = 2 * time.Second
	tc := newTestCluster(t, 3, withHubs(), withClockShift(2, skew), withConfig(func(i int, cfg *Config) {
		if i == 2 {
			cfg.ConfigHash = "hash-2"
		}
	}))
	skewed := tc.nodes[2]
	a := tc.nodes[0]
	dialHub(t, tc.nodes[1].wsURL, "frank", "", 0).readEvent("hello")

	var st []NodeInfo
	tc.waitFor("A to measure every clock", func() bool {
		st = a.c.Status(t.Context())
		for _, n := range st {
			if n.ClockOffsetMillis == nil {
				return false
			}
		}
		return len(st) == 3
	})
	want := ids(tc.nodes)
	for i, n := range st {
		if n.ID != want[i] {
			t.Fatalf("status ids not sorted: %v", st)
		}
		node := tc.byID(n.ID)
		if n.Self != (node == a) || n.Leader != (n.ID == want[0]) || !n.Reachable || n.WebSocketCount == nil {
			t.Errorf("%s: self %v leader %v reachable %v", n.ID, n.Self, n.Leader, n.Reachable)
		}
		if n.Version != "test" || n.SchemaVersion != "1.1" || n.Hostname == "" || n.API == "" || n.State != StateServing {
			t.Errorf("%s: metadata %+v", n.ID, n)
		}
		if host, _, err := net.SplitHostPort(n.IPAddress); err != nil || host != node.c.cfg.Settings.BindAddress {
			t.Errorf("%s: ipaddress %q, want the gossip address on %s", n.ID, n.IPAddress, node.c.cfg.Settings.BindAddress)
		}
		wantCount := 0
		if node == tc.nodes[1] {
			wantCount = 1
		}
		if *n.WebSocketCount != wantCount {
			t.Errorf("%s: websocket_count %d, want %d", n.ID, *n.WebSocketCount, wantCount)
		}
		wantHash := "hash-1"
		if node == skewed {
			wantHash = "hash-2"
		}
		if n.ConfigHash != wantHash {
			t.Errorf("%s: config_hash %q, want %q", n.ID, n.ConfigHash, wantHash)
		}
	}
	tc.waitFor("the skew to be measured", func() bool {
		for _, n := range a.c.Status(t.Context()) {
			if n.ID == skewed.c.NodeID() {
				return n.ClockSkew && *n.ClockOffsetMillis > 1500 && *n.ClockOffsetMillis < 2500
			}
		}
		return false
	})
	for _, n := range a.c.Status(t.Context()) {
		if n.ID != skewed.c.NodeID() && n.ClockSkew {
			t.Errorf("%s flagged with offset %.1f ms", n.ID, *n.ClockOffsetMillis)
		}
	}
	// The skewed node sees everyone else behind it.
	tc.waitFor("the skewed node to see the others behind", func() bool {
		flagged := 0
		for _, n := range skewed.c.Status(t.Context()) {
			if !n.Self && n.ClockSkew && *n.ClockOffsetMillis < -1500 {
				flagged++
			}
		}
		return flagged == 2
	})

	b, _ := json.Marshal(st[0])
	for _, key := range []string{`"id"`, `"version"`, `"schema_version"`, `"config_hash"`, `"ipaddress"`, `"hostname"`} {
		if !json.Valid(b) || !jsonHas(b, key[1:len(key)-1]) {
			t.Errorf("status JSON %s lacks Mattermost's key %s", b, key)
		}
	}
}

// byID returns the node of id.
func (tc *testCluster) byID(id string) *testNode {
	for _, n := range tc.nodes {
		if n.c.NodeID() == id {
			return n
		}
	}
	tc.t.Fatalf("no node %s", id)
	return nil
}

func TestDrainingStateIsAnnounced(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 2)
	a, b := tc.nodes[0], tc.nodes[1]
	if err := a.c.SetState(t.Context(), StateDraining); err != nil {
		t.Fatal(err)
	}
	tc.waitFor("B to see A draining", func() bool {
		b.c.mu.Lock()
		defer b.c.mu.Unlock()
		return b.c.members[a.c.NodeID()].State == StateDraining
	})
	if err := a.c.SetConfigHash(t.Context(), "hash-9"); err != nil {
		t.Fatal(err)
	}
	tc.waitFor("B to see A's new config hash", func() bool {
		b.c.mu.Lock()
		defer b.c.mu.Unlock()
		return b.c.members[a.c.NodeID()].ConfigHash == "hash-9"
	})
	if err := a.c.SetState(t.Context(), "sleeping"); err == nil {
		t.Error("an unknown state was accepted")
	}
}

func TestDiscoveryRowsAreWrittenRefreshedAndRemoved(t *testing.T) {
	t.Parallel()
	for _, driver := range storetest.Drivers() {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			// A row of a node that died half an hour ago, of any cluster.
			tc := &testCluster{t: t, name: "test-" + newID()[:8], db: storetest.Open(t, driver), members: &hubMembers{}}
			cd := tc.db.ClusterDiscovery()
			old := time.Now().Add(-31 * time.Minute).UnixMilli()
			if err := cd.Save(t.Context(), newDiscoveryRowForTest(tc.name, old)); err != nil {
				t.Fatal(err)
			}
			a, b := tc.add(), tc.add()
			tc.waitConverged()
			rows := func() map[string]int64 {
				all, err := cd.GetAll(t.Context(), Type, tc.name, 0)
				if err != nil {
					t.Fatal(err)
				}
				out := map[string]int64{}
				for _, r := range all {
					out[r.Hostname+":"+strconv.Itoa(r.GossipPort)] = r.LastPingAt
				}
				return out
			}
			first := rows()
			if len(first) != 2 {
				t.Fatalf("rows after start: %v; want the two nodes' only (the stale one cleaned)", first)
			}
			if _, ok := first[a.c.g.localAddr()]; !ok {
				t.Fatalf("no row for %s in %v", a.c.g.localAddr(), first)
			}
			tc.waitFor("a heartbeat", func() bool { return rows()[a.c.g.localAddr()] > first[a.c.g.localAddr()] })

			if err := a.c.Stop(t.Context()); err != nil {
				t.Fatal(err)
			}
			if r := rows(); len(r) != 1 || r[b.c.g.localAddr()] == 0 {
				t.Fatalf("rows after a clean stop: %v; want B's only", r)
			}
			b.c.halt()
			if r := rows(); len(r) != 1 {
				t.Fatalf("rows after a crash: %v; want the crashed node's row to stay", r)
			}
		})
	}
}

// newDiscoveryRowForTest is an app row of cluster last pinged at ping.
func newDiscoveryRowForTest(cluster string, ping int64) *store.ClusterDiscovery {
	return &store.ClusterDiscovery{ID: newID(), Type: Type, ClusterName: cluster, Hostname: "10.9.9.9", GossipPort: 8074, CreateAt: ping, LastPingAt: ping}
}

func TestStartRefusesAClusterWithoutAName(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Settings.Enable = true
	cfg.NodeID = newID()
	db := storetest.Open(t, config.DriverSQLite)
	if _, err := New(cfg, Deps{Discovery: db.ClusterDiscovery()}); err == nil {
		t.Fatal("New accepted an empty ClusterName")
	}
}

func TestStopWithoutStartAndTwiceIsHarmless(t *testing.T) {
	t.Parallel()
	tc := newTestCluster(t, 1)
	n := tc.nodes[0]
	if !n.c.IsLeader() {
		t.Error("a lone node is not its own leader")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for range 2 {
		if err := n.c.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n.c.IsLeader() || n.c.Leader() != "" || len(n.c.Status(ctx)) != 0 {
		t.Error("a stopped node still reports a leader or members")
	}
	if err := n.c.Start(ctx); err == nil {
		t.Error("Start after Stop succeeded")
	}
	_ = n.c.Send(ctx, EventInvalidateUser, []byte("x")) // does nothing, must not panic

	never, err := New(tc.testConfig(loopbackIP()), Deps{Discovery: tc.db.ClusterDiscovery()})
	if err != nil {
		t.Fatal(err)
	}
	if err := never.Stop(ctx); err != nil || never.IsLeader() {
		t.Errorf("Stop of a cluster never started = %v, leader %v", err, never.IsLeader())
	}
}
