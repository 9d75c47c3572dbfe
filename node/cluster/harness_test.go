package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hashicorp/memberlist"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/seed331fb32b/chorus/node/config"
	"github.com/seed331fb32b/chorus/node/store"
	"github.com/seed331fb32b/chorus/node/store/storetest"
	"github.com/seed331fb32b/chorus/node/ws"
)

// longStop bounds every wait of these tests; reaching it is a failure.
const longStop = 20 * time.Second

// detectTarget is the failure-detection time the issue asks for. Tests
// log how long detection took against it; they never fail on timing (the
// machine is shared), the benchmarks measure it.
const detectTarget = 3 * time.Second

// nextIP hands each test node its own loopback address, 127.0.0.10 and
// up, so nodes differ by address as well as port.
var nextIP atomic.Int32

func loopbackIP() string {
	n := nextIP.Add(1)
	return fmt.Sprintf("127.0.%d.%d", 1+n/200, 10+n%200)
}

// testCluster is the raft-style harness: n nodes of one cluster on real
// memberlist sockets (distinct 127.0.x.y addresses, free ports), sharing
// one real database, each with a transport the test can cut.
type testCluster struct {
	t       testing.TB
	name    string       // ClusterSettings.ClusterName
	db      *store.Store // shared by every node
	members *hubMembers  // channel membership shared by every node's hub
	nodes   []*testNode
	opts    harnessOpts
}

// testNode is one node of a testCluster.
type testNode struct {
	c       *Cluster
	cut     *cutTransport
	hub     *ws.Hub // nil without withHubs
	wsURL   string  // ws://…/api/v4/websocket of hub
	leaders chan leaderEvent
	events  *eventLog // app events received, by handler
}

// leaderEvent is one call of a leader-changed hook.
type leaderEvent struct {
	leader   string
	isLeader bool
}

// harnessOpts adjust a testCluster.
type harnessOpts struct {
	hubs       bool // give every node a ws.Hub behind a real HTTP server
	encryption bool
	driver     string
	configure  func(i int, cfg *Config)
	clockShift map[int]time.Duration // node index → how far its clock is ahead
}

type harnessOpt func(*harnessOpts)

func withHubs() harnessOpt       { return func(o *harnessOpts) { o.hubs = true } }
func withEncryption() harnessOpt { return func(o *harnessOpts) { o.encryption = true } }
func withConfig(f func(i int, cfg *Config)) harnessOpt {
	return func(o *harnessOpts) { o.configure = f }
}

// withClockShift runs node i's clock d ahead of the others.
func withClockShift(i int, d time.Duration) harnessOpt {
	return func(o *harnessOpts) {
		if o.clockShift == nil {
			o.clockShift = map[int]time.Duration{}
		}
		o.clockShift[i] = d
	}
}

// newTestCluster starts n nodes and waits until each sees all of them.
func newTestCluster(t testing.TB, n int, opts ...harnessOpt) *testCluster {
	t.Helper()
	o := harnessOpts{driver: config.DriverSQLite}
	for _, f := range opts {
		f(&o)
	}
	tc := &testCluster{
		t:       t,
		name:    "test-" + newID()[:8],
		db:      storetest.Open(t, o.driver),
		members: &hubMembers{channels: map[string]map[string]struct{}{}},
		opts:    o,
	}
	for range n {
		tc.add()
	}
	tc.waitConverged()
	return tc
}

// testConfig is a node's config: the contract's timings (so the tests see
// the real detection times), with discovery intervals shrunk.
func (tc *testCluster) testConfig(ip string) Config {
	cfg := DefaultConfig()
	cfg.Settings.Enable = true
	cfg.Settings.ClusterName = tc.name
	cfg.Settings.BindAddress = ip
	cfg.Settings.GossipPort = 0
	cfg.Settings.EnableGossipEncryption = tc.opts.encryption
	cfg.NodeID = newID()
	cfg.Version = "test"
	cfg.SchemaVersion = "1.1"
	cfg.ConfigHash = "hash-1"
	cfg.APIAddress = net.JoinHostPort(ip, "8065")
	cfg.Hostname = "host-" + ip
	cfg.PingInterval = 200 * time.Millisecond
	cfg.RejoinInterval = 200 * time.Millisecond
	return cfg
}

// add starts one more node and returns it; it does not wait for the
// others to see it.
func (tc *testCluster) add() *testNode {
	tc.t.Helper()
	ip := loopbackIP()
	cfg := tc.testConfig(ip)
	if tc.opts.configure != nil {
		tc.opts.configure(len(tc.nodes), &cfg)
	}
	n := tc.start(cfg, tc.db, tc.opts.clockShift[len(tc.nodes)])
	tc.nodes = append(tc.nodes, n)
	return n
}

// start makes and starts a node of cfg on db, its clock shift ahead.
func (tc *testCluster) start(cfg Config, db *store.Store, shift ...time.Duration) *testNode {
	t := tc.t
	t.Helper()
	n := &testNode{leaders: make(chan leaderEvent, 100), events: newEventLog()}
	log := zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)).Named(cfg.NodeID[:6])
	deps := Deps{Discovery: db.ClusterDiscovery(), System: db.System(), Logger: log}
	if tc.opts.hubs {
		n.hub, n.wsURL = startHub(t, cfg.Settings.BindAddress, tc.members, log)
		deps.Hub = n.hub
	}
	c, err := New(cfg, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if len(shift) > 0 && shift[0] != 0 {
		c.now = func() time.Time { return time.Now().Add(shift[0]) }
	}
	c.wrap = func(inner memberlist.NodeAwareTransport) memberlist.NodeAwareTransport {
		n.cut = newCutTransport(inner)
		return n.cut
	}
	c.OnLeaderChange(func(leader string, isLeader bool) {
		select {
		case n.leaders <- leaderEvent{leader, isLeader}:
		default:
		}
	})
	for _, ev := range []string{EventInvalidateUser, EventClearSessionUser, EventUpdateStatus, "test_marker"} {
		c.Handle(ev, n.events.handler(ev))
	}
	if err := c.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	n.c = c
	if n.hub != nil {
		n.hub.SetCluster(c)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Stop(ctx)
	})
	return n
}

// node returns node i's Cluster.
func (tc *testCluster) node(i int) *Cluster { return tc.nodes[i].c }

// live returns the nodes not stopped.
func (tc *testCluster) live() []*testNode {
	var out []*testNode
	for _, n := range tc.nodes {
		select {
		case <-n.c.stopped:
		default:
			out = append(out, n)
		}
	}
	return out
}

// ids returns the sorted ids of nodes.
func ids(nodes []*testNode) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.c.NodeID())
	}
	slices.Sort(out)
	return out
}

// sees reports whether n's members are exactly want (sorted ids).
func sees(n *testNode, want []string) bool {
	got := n.c.Members()
	slices.Sort(got)
	return slices.Equal(got, want)
}

// waitConverged waits until every live node sees exactly the live nodes.
func (tc *testCluster) waitConverged() {
	tc.t.Helper()
	live := tc.live()
	want := ids(live)
	tc.waitFor("every node to see "+strings.Join(want, ","), func() bool {
		for _, n := range live {
			if !sees(n, want) {
				return false
			}
		}
		return true
	})
}

// waitFor polls cond until it holds, failing with a dump of every node's
// view after longStop.
func (tc *testCluster) waitFor(what string, cond func() bool) time.Duration {
	tc.t.Helper()
	return waitFor(tc.t, what, cond, tc.dump)
}

// dump describes every node's view, for failures.
func (tc *testCluster) dump() string {
	var b strings.Builder
	for i, n := range tc.nodes {
		m := n.c.Members()
		slices.Sort(m)
		fmt.Fprintf(&b, "\n  node %d %s: leader %s members %v", i, n.c.NodeID(), n.c.Leader(), m)
	}
	return b.String()
}

// waitFor polls cond every few milliseconds until it holds and returns how
// long that took; after longStop it fails the test with what and dump().
func waitFor(t testing.TB, what string, cond func() bool, dump func() string) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(longStop)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			extra := ""
			if dump != nil {
				extra = dump()
			}
			t.Fatalf("timed out after %s waiting for %s%s", longStop, what, extra)
		}
		select {
		case <-tick.C:
		case <-t.Context().Done():
			t.Fatalf("test ended waiting for %s", what)
		}
	}
	return time.Since(start)
}

// eventLog records the app events a node's handlers received.
type eventLog struct {
	mu   sync.Mutex
	got  map[string][]string // event → data, in arrival order
	wake chan struct{}
}

func newEventLog() *eventLog {
	return &eventLog{got: map[string][]string{}, wake: make(chan struct{}, 1)}
}

func (l *eventLog) handler(event string) func(context.Context, []byte) {
	return func(_ context.Context, data []byte) {
		l.mu.Lock()
		l.got[event] = append(l.got[event], string(data))
		l.mu.Unlock()
	}
}

func (l *eventLog) of(event string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.got[event])
}

// hubMembers is the channel membership every test hub resolves, as one
// database would give.
type hubMembers struct {
	mu       sync.Mutex
	channels map[string]map[string]struct{}
}

func (m *hubMembers) setChannel(id string, users ...string) {
	s := map[string]struct{}{}
	for _, u := range users {
		s[u] = struct{}{}
	}
	m.mu.Lock()
	m.channels[id] = s
	m.mu.Unlock()
}

func (m *hubMembers) ChannelMembers(_ context.Context, id string) (map[string]struct{}, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.channels[id], nil
}

func (m *hubMembers) TeamMembers(context.Context, string) (map[string]struct{}, error) {
	return nil, nil
}

// testAuth accepts the token "tok-<user>" for user <user>, session
// "sess-<user>".
var testAuth = ws.AuthenticatorFunc(func(_ context.Context, token string) (string, string, error) {
	user, ok := strings.CutPrefix(token, "tok-")
	if !ok || user == "" {
		return "", "", errors.New("invalid token")
	}
	return user, "sess-" + user, nil
})

// startHub serves a real ws.Hub on ip, closed when the test ends, and
// returns it with its WebSocket URL.
func startHub(t testing.TB, ip string, members ws.Membership, log *zap.Logger) (*ws.Hub, string) {
	t.Helper()
	cfg := ws.DefaultConfig()
	cfg.Hostname = "test-" + ip
	hub, err := ws.New(cfg, ws.Deps{Auth: testAuth, Members: members, Logger: log})
	if err != nil {
		t.Fatalf("ws.New: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /api/v4/websocket", hub)
	srv := httptest.NewUnstartedServer(mux)
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv.Listener = ln
	srv.Start()
	t.Cleanup(func() {
		_ = hub.Close()
		srv.Close()
	})
	return hub, "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v4/websocket"
}

// wsClient is a test's WebSocket client.
type wsClient struct {
	t      testing.TB
	conn   *websocket.Conn
	connID string // from hello
	next   int64  // the seq expected next
	frames chan wsFrame
}

// wsFrame is an event frame as a client reads it.
type wsFrame struct {
	Event string          `json:"event"`
	Seq   int64           `json:"seq"`
	Data  json.RawMessage `json:"data"`
}

// dialHub connects user to url, resuming connID at seq when connID is
// set, and starts reading frames.
func dialHub(t testing.TB, url, user, connID string, seq int64) *wsClient {
	t.Helper()
	conn := dialConn(t, url, user, connID, seq)
	c := &wsClient{t: t, conn: conn, next: seq, frames: make(chan wsFrame, 1024)}
	go func() {
		defer close(c.frames)
		for {
			_, b, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var f wsFrame
			if json.Unmarshal(b, &f) == nil && f.Event != "" {
				c.frames <- f
			}
		}
	}()
	return c
}

// dialConn opens user's socket on url, resuming connID from seq when
// connID is not "". The socket closes when the test ends.
func dialConn(t testing.TB, url, user, connID string, seq int64) *websocket.Conn {
	t.Helper()
	u := url
	if connID != "" {
		u += "?" + urlValues(connID, seq)
	}
	h := http.Header{"Authorization": {"Bearer tok-" + user}}
	ctx, cancel := context.WithTimeout(context.Background(), longStop)
	defer cancel()
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, u, h)
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func urlValues(connID string, seq int64) string {
	return url.Values{"connection_id": {connID}, "sequence_number": {fmt.Sprint(seq)}}.Encode()
}

// read returns the next event frame, failing after longStop.
func (c *wsClient) read() wsFrame {
	c.t.Helper()
	select {
	case f, ok := <-c.frames:
		if !ok {
			c.t.Fatal("socket closed while waiting for an event")
		}
		if f.Event == ws.EventHello {
			var d struct {
				ConnectionID string `json:"connection_id"`
			}
			_ = json.Unmarshal(f.Data, &d)
			c.connID = d.ConnectionID
		}
		c.next = f.Seq + 1
		return f
	case <-time.After(longStop):
		c.t.Fatalf("no event within %s", longStop)
	}
	return wsFrame{}
}

// readEvent skips frames until one named event and returns it.
func (c *wsClient) readEvent(event string) wsFrame {
	c.t.Helper()
	for {
		if f := c.read(); f.Event == event {
			return f
		}
	}
}

// publish publishes an event on n's hub (which forwards it to the
// cluster) to the members of channel, with text in its data.
func publish(t testing.TB, n *testNode, event, channel, text string) {
	t.Helper()
	err := n.hub.Publish(t.Context(), ws.Event{
		Event:     event,
		Data:      map[string]string{"text": text},
		Broadcast: ws.Broadcast{ChannelID: channel},
	})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
}

// jsonHas reports whether JSON b contains the string s.
func jsonHas(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }
