package caddymodule

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/seed331fb32b/chorus/balancer"
)

// freeAddr returns a loopback address free right now.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// appNode is an httptest server standing in for an app node: it answers
// the ping with a settable status, upgrades /api/v4/websocket and echoes,
// and answers anything else with its name.
type appNode struct {
	name   string
	srv    *httptest.Server
	status atomic.Int32
	hits   atomic.Int32
}

func newAppNode(t *testing.T, name string) *appNode {
	n := &appNode{name: name}
	n.status.Store(200)
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == balancer.PingPath:
			w.WriteHeader(int(n.status.Load()))
		case r.URL.Path == "/api/v4/websocket" && r.Header.Get("Upgrade") == "websocket":
			c, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n" + n.name + "\n")
			brw.Flush()
			_, _ = io.Copy(c, brw)
			c.Close()
		default:
			n.hits.Add(1)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"node":%q,"xff":%q,"xri":%q}`, n.name, r.Header.Get("X-Forwarded-For"), r.Header.Get("X-Real-Ip"))
		}
	}))
	t.Cleanup(n.srv.Close)
	return n
}

func (n *appNode) addr() string { return strings.TrimPrefix(n.srv.URL, "http://") }

// loadCaddyfile adapts src and loads it into this process's Caddy.
func loadCaddyfile(t testing.TB, src string) {
	t.Helper()
	cfg, err := adapt(t, "Caddyfile", src)
	if err != nil {
		t.Fatalf("adapt: %v\n%s", err, src)
	}
	if err := caddy.Load(cfg, true); err != nil {
		t.Fatalf("load: %v", err)
	}
}

func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFrontDoorInProcess runs the whole chain in this process: the
// directive, one checker, the upstream source, selection, transport, the
// WebSocket tunnel, the admin routes and the metrics.
func TestFrontDoorInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Caddy")
	}
	a, b := newAppNode(t, "a"), newAppNode(t, "b")
	front, admin := freeAddr(t), freeAddr(t)
	src := fmt.Sprintf(`{
	admin %s
	skip_install_trust
	persist_config off
}
http://%s {
	chorus %s %s {
		cluster inproc
		health_interval 50ms
		health_passes 1
		health_fails 1
		slow_start 0s
		drain_grace 0s
		drain_spread 0s
		try_duration 1s
	}
}
`, admin, front, a.addr(), b.addr())
	loadCaddyfile(t, src)
	t.Cleanup(func() { _ = caddy.Stop() })
	client := &http.Client{Timeout: 5 * time.Second}

	getJSON := func(url string, v any) int {
		t.Helper()
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if v != nil {
			_ = json.NewDecoder(resp.Body).Decode(v)
		}
		return resp.StatusCode
	}
	nodes := func() map[string]balancer.NodeStatus {
		var cs []clusterStatus
		getJSON("http://"+admin+"/chorus/nodes", &cs)
		out := map[string]balancer.NodeStatus{}
		for _, c := range cs {
			for _, n := range c.Nodes {
				out[n.Node] = n
			}
		}
		return out
	}
	waitUntil(t, "both nodes active", func() bool {
		ns := nodes()
		return ns[a.addr()].State == "active" && ns[b.addr()].State == "active"
	})

	// Requests spread over both nodes, with the forwarding headers.
	seen := map[string]int{}
	for range 20 {
		var body struct{ Node, Xff, Xri string }
		if code := getJSON("http://"+front+"/api/v4/users/me", &body); code != 200 {
			t.Fatalf("proxied GET: %d", code)
		}
		if body.Xri != "127.0.0.1" || body.Xff != "127.0.0.1" {
			t.Fatalf("node saw X-Real-IP %q, X-Forwarded-For %q", body.Xri, body.Xff)
		}
		seen[body.Node]++
	}
	if seen["a"] == 0 || seen["b"] == 0 {
		t.Fatalf("requests went %v; want both nodes used", seen)
	}

	// A WebSocket through the tunnel, counted on its node.
	c, err := net.Dial("tcp", front)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /api/v4/websocket HTTP/1.1\r\nHost: "+front+"\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	wsNode, _ := r.ReadString('\n')
	wsNode = strings.TrimSpace(wsNode)
	wsAddr := map[string]string{"a": a.addr(), "b": b.addr()}[wsNode]
	io.WriteString(c, "ping")
	if got := make([]byte, 4); func() bool { _, err := io.ReadFull(r, got); return err != nil || string(got) != "ping" }() {
		t.Fatal("no echo through the tunnel")
	}
	if ns := nodes(); ns[wsAddr].WebSockets != 1 {
		t.Fatalf("node %s reports %d websockets; want 1", wsAddr, ns[wsAddr].WebSockets)
	}

	// Drain that node through the admin API: the socket is closed (grace
	// 0), the node drained, and requests go to the other node only.
	dr, err := client.Post("http://"+admin+"/chorus/drain", "application/json", strings.NewReader(`{"node":"`+wsAddr+`"}`))
	if err != nil || dr.StatusCode != 200 {
		t.Fatalf("drain: %v %v", dr, err)
	}
	dr.Body.Close()
	if _, err := r.ReadByte(); err == nil {
		t.Fatal("tunnel still open after the drain")
	}
	waitUntil(t, "drained", func() bool { return nodes()[wsAddr].State == "drained" })
	for range 10 {
		var body struct{ Node string }
		getJSON("http://"+front+"/api/v4/users/me", &body)
		if body.Node == wsNode {
			t.Fatalf("a request reached drained node %s", wsNode)
		}
	}
	ur, err := client.Post("http://"+admin+"/chorus/undrain?node="+wsAddr, "", nil)
	if err != nil || ur.StatusCode != 200 {
		t.Fatalf("undrain: %v %v", ur, err)
	}
	ur.Body.Close()

	// A failing ping takes a node out, and the rest still serve.
	a.status.Store(500)
	waitUntil(t, "node a unhealthy", func() bool { return nodes()[a.addr()].State == "unhealthy" })
	for range 10 {
		var body struct{ Node string }
		if code := getJSON("http://"+front+"/api/v4/users/me", &body); code != 200 || body.Node != "b" {
			t.Fatalf("with a out: %d from %q", code, body.Node)
		}
	}

	// Unknown node: 404 from the admin API.
	nr, _ := client.Post("http://"+admin+"/chorus/drain", "application/json", strings.NewReader(`{"node":"10.9.9.9:1"}`))
	if nr.StatusCode != 404 {
		t.Fatalf("draining an unknown node: %d; want 404", nr.StatusCode)
	}
	nr.Body.Close()

	// Status page, HTML and JSON; metrics.
	page, _ := client.Get("http://" + admin + "/chorus/status")
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if !strings.Contains(string(html), b.addr()) || !strings.Contains(string(html), "unhealthy") {
		t.Fatalf("status page lacks the nodes:\n%s", html)
	}
	var cs []clusterStatus
	if getJSON("http://"+admin+"/chorus/status?format=json", &cs); len(cs) != 1 || cs[0].Cluster != "inproc" {
		t.Fatalf("status JSON: %+v", cs)
	}
	m, _ := client.Get("http://" + admin + "/metrics")
	metrics, _ := io.ReadAll(m.Body)
	m.Body.Close()
	for _, want := range []string{
		`chorus_node_state{cluster="inproc",node="` + a.addr() + `",state="unhealthy"} 1`,
		`chorus_node_healthy{cluster="inproc",node="` + b.addr() + `"} 1`,
		`chorus_drain_forced_closes_total{cluster="inproc",node="` + wsAddr + `"} 1`,
		`chorus_health_check_duration_seconds_count{cluster="inproc"`,
		`chorus_node_websockets{`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// No node at all: the front door answers 503 in AppError JSON.
	b.status.Store(500)
	waitUntil(t, "node b unhealthy", func() bool { return nodes()[b.addr()].State == "unhealthy" })
	var appErr struct {
		ID         string `json:"id"`
		StatusCode int    `json:"status_code"`
	}
	fast := &http.Client{Timeout: 20 * time.Second}
	er, err := fast.Get("http://" + front + "/api/v4/users/me")
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(er.Body).Decode(&appErr)
	er.Body.Close()
	if er.StatusCode != 503 || appErr.ID != "chorus.proxy.no_node.app_error" {
		t.Fatalf("no node: %d %+v; want 503 AppError", er.StatusCode, appErr)
	}
}

// TestTransportTracksUpgradedStreams composes Caddy's own reverse_proxy
// with the Chorus modules by hand (no tunnel on this site): the upgraded
// stream is tracked by the transport, counted on its node and closed by a
// drain.
func TestTransportTracksUpgradedStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Caddy")
	}
	a := newAppNode(t, "a")
	front, manual, admin := freeAddr(t), freeAddr(t), freeAddr(t)
	loadCaddyfile(t, fmt.Sprintf(`{
	admin %s
	persist_config off
}
http://%s {
	chorus %s {
		health_interval 50ms
		drain_grace 0s
		drain_spread 0s
	}
}
http://%s {
	reverse_proxy {
		dynamic chorus chorus
		lb_policy chorus
		transport chorus
	}
}
`, admin, front, a.addr(), manual))
	t.Cleanup(func() { _ = caddy.Stop() })
	c := lookupCluster("chorus")
	waitUntil(t, "node active", func() bool { return c != nil && len(c.pool.Load().Active()) == 1 })

	conn, err := net.Dial("tcp", manual)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /api/v4/websocket HTTP/1.1\r\nHost: "+manual+"\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade through reverse_proxy: %v %v", resp, err)
	}
	if name, _ := r.ReadString('\n'); name != "a\n" {
		t.Fatalf("first bytes %q", name)
	}
	p := c.pool.Load()
	st, _ := p.Status(a.addr())
	if st.WebSockets != 1 {
		t.Fatalf("node reports %d websockets through reverse_proxy; want 1", st.WebSockets)
	}
	if _, err := p.Drain(a.addr()); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.ReadByte(); err == nil {
		t.Fatal("stream still open after the drain")
	}
	waitUntil(t, "drained", func() bool { st, _ := p.Status(a.addr()); return st.State == "drained" })
}
