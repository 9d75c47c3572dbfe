package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// freeAddr returns a loopback address that is free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// frontDoor is a "chorus run" process serving a Caddyfile.
type frontDoor struct {
	cmd       *exec.Cmd
	url       string // http://host:port of the site
	admin     string // host:port of Caddy's admin API
	dir       string
	caddyfile string
	exited    chan struct{}
}

// startFrontDoor writes the Caddyfile made by body(site, admin) and runs
// "chorus run" on it, waiting until the admin API and the site listen.
func startFrontDoor(t *testing.T, body func(site, admin string) string) *frontDoor {
	t.Helper()
	f := &frontDoor{dir: t.TempDir(), admin: freeAddr(t), exited: make(chan struct{})}
	site := freeAddr(t)
	f.url = "http://" + site
	f.caddyfile = body(site, f.admin)
	path := filepath.Join(f.dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(f.caddyfile), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(f.dir, "frontdoor.log"))
	if err != nil {
		t.Fatal(err)
	}
	f.cmd = exec.Command(chorusBin, "run", "--config", path, "--adapter", "caddyfile")
	f.cmd.Stdout, f.cmd.Stderr = logFile, logFile
	f.cmd.Env = append(os.Environ(), "HOME="+f.dir, "XDG_DATA_HOME="+f.dir, "XDG_CONFIG_HOME="+f.dir)
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = f.cmd.Wait(); logFile.Close(); close(f.exited) }()
	t.Cleanup(func() {
		_ = f.cmd.Process.Kill()
		<-f.exited
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(f.dir, "frontdoor.log"))
			t.Logf("front door log:\n%s", tail(b, 6000))
		}
	})
	waitFor(t, 20*time.Second, "the front door's admin API", func() bool {
		select {
		case <-f.exited:
			t.Fatalf("the front door exited:\n%s", f.log())
		default:
		}
		resp, err := http.Get("http://" + f.admin + "/chorus/nodes")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return f
}

func (f *frontDoor) log() string {
	b, _ := os.ReadFile(filepath.Join(f.dir, "frontdoor.log"))
	return string(tail(b, 6000))
}

// nodeStatus is a node as GET /chorus/nodes reports it.
type nodeStatus struct {
	Node       string   `json:"node"`
	State      string   `json:"state"`
	Healthy    bool     `json:"healthy"`
	InFlight   int      `json:"in_flight"`
	WebSockets int      `json:"websockets"`
	Requests   int      `json:"requests"`
	DrainBy    string   `json:"drain_by"`
	Forced     int      `json:"forced_closes"`
	Sources    []string `json:"sources"`
}

// nodes returns every node of every cluster, by address.
func (f *frontDoor) nodes(t *testing.T) map[string]nodeStatus {
	t.Helper()
	resp, err := http.Get("http://" + f.admin + "/chorus/nodes")
	if err != nil {
		t.Fatalf("GET /chorus/nodes: %v", err)
	}
	defer resp.Body.Close()
	var clusters []struct {
		Nodes []nodeStatus `json:"nodes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&clusters); err != nil {
		t.Fatalf("decoding /chorus/nodes: %v", err)
	}
	out := map[string]nodeStatus{}
	for _, c := range clusters {
		for _, n := range c.Nodes {
			out[n.Node] = n
		}
	}
	return out
}

// waitState waits until the node at addr is in state, and returns how
// long that took.
func (f *frontDoor) waitState(t *testing.T, addr, state string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	waitFor(t, timeout, fmt.Sprintf("node %s %s", addr, state), func() bool { return f.nodes(t)[addr].State == state })
	return time.Since(start)
}

// post sends an admin POST with a JSON body and returns the status.
func (f *frontDoor) post(t *testing.T, path, body string) int {
	t.Helper()
	resp, err := http.Post("http://"+f.admin+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// appProcess is a "chorus node" process.
type appProcess struct {
	addr string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// startAppNode runs a chorus node on a free port with the SQLite file db.
func startAppNode(t *testing.T, db string) *appProcess {
	t.Helper()
	dir := t.TempDir()
	p := &appProcess{addr: freeAddr(t), log: filepath.Join(dir, "node.log"), done: make(chan struct{})}
	cfg := fmt.Sprintf(`{"ServiceSettings":{"ListenAddress":%q},"SqlSettings":{"DriverName":"sqlite","DataSource":%q}}`, p.addr, db)
	cfgPath := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(chorusBin, "node", "--config", cfgPath)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); logFile.Close(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			t.Logf("node %s log:\n%s", p.addr, tail(b, 3000))
		}
	})
	client := &http.Client{Timeout: 2 * time.Second}
	waitFor(t, 30*time.Second, "node "+p.addr+" ready", func() bool {
		select {
		case <-p.done:
			b, _ := os.ReadFile(p.log)
			t.Fatalf("node exited before it was ready:\n%s", b)
		default:
		}
		code, err := ping(client, "http://"+p.addr)
		return err == nil && code == 200
	})
	return p
}

// testNode is an in-test app node: ping 200, a WebSocket echo on
// /api/v4/websocket, /slow that answers after a while, and its name on
// every response (X-Node).
type testNode struct {
	name  string
	srv   *httptest.Server
	hits  atomic.Int64 // non-ping requests
	slowD time.Duration
}

func newTestNode(t *testing.T, name string, slow time.Duration) *testNode {
	n := &testNode{name: name, slowD: slow}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Node", n.name)
		switch r.URL.Path {
		case "/api/v4/system/ping":
			w.Write([]byte(`{"status":"OK"}`))
		case "/api/v4/websocket":
			n.hits.Add(1)
			c, err := up.Upgrade(w, r, http.Header{"X-Node": {n.name}})
			if err != nil {
				return
			}
			defer c.Close()
			for {
				mt, msg, err := c.ReadMessage()
				if err != nil {
					return
				}
				if err := c.WriteMessage(mt, msg); err != nil {
					return
				}
			}
		case "/slow":
			n.hits.Add(1)
			time.Sleep(n.slowD)
			w.Write([]byte(n.name))
		default:
			n.hits.Add(1)
			w.Write([]byte(n.name))
		}
	}))
	t.Cleanup(n.srv.Close)
	return n
}

func (n *testNode) addr() string { return strings.TrimPrefix(n.srv.URL, "http://") }

// dialWS opens a WebSocket through the front door.
func dialWS(t *testing.T, front string) (*websocket.Conn, string) {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(front, "http")+"/api/v4/websocket", nil)
	if err != nil {
		t.Fatalf("dialing a WebSocket through the front door: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c, resp.Header.Get("X-Node")
}

// echo sends msg on c and checks it comes back.
func echo(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatalf("writing to the WebSocket: %v", err)
	}
	_, got, err := c.ReadMessage()
	if err != nil || string(got) != msg {
		t.Fatalf("echo: %q, %v; want %q", got, err, msg)
	}
	_ = c.SetReadDeadline(time.Time{})
}
