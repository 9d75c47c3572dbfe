package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, to create a schema per test
)

// This file holds the helpers of the cluster tests: one database per test
// (a fresh PostgreSQL schema, or a SQLite file when PostgreSQL is not
// reachable outside CI), "chorus node" processes clustered on loopback, a
// small Mattermost API client and raw WebSocket clients.

// clusterDB returns the SqlSettings section (JSON object members) of a
// fresh database shared by a test's nodes: a new schema on the PostgreSQL
// of CHORUS_TEST_POSTGRES (default 127.0.0.1:5432, database test), dropped
// at the end; when that server is unreachable, a SQLite file (under
// CI=true the test fails instead).
func clusterDB(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("CHORUS_TEST_POSTGRES")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	db, err := sql.Open("pgx", dsn)
	if err == nil {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		err = db.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if db != nil {
			db.Close()
		}
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL test database unreachable: %v", err)
		}
		t.Logf("PostgreSQL unreachable (%v): the nodes share a SQLite file", err)
		return fmt.Sprintf(`"DriverName": "sqlite", "DataSource": %q`, filepath.Join(t.TempDir(), "chorus.db"))
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "chorus_e2e_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
		db.Close()
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("CHORUS_TEST_POSTGRES must be a URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return fmt.Sprintf(`"DriverName": "postgres", "DataSource": %q`, u.String())
}

// clusterNode is one "chorus node" process in a cluster.
type clusterNode struct {
	name   string // for messages: "A", "B", ...
	addr   string // API host:port
	base   string // http://addr
	id     string // node id, from its ready log line
	gossip string // gossip host:port
	log    string
	cmd    *exec.Cmd
	done   chan struct{}
}

// nodeOptions are the settings of a test node beyond the shared ones.
type nodeOptions struct {
	cluster    string // ClusterName; "" means "e2e"
	encryption bool   // EnableGossipEncryption
	extra      string // more config sections (JSON object members), or ""
}

// startClusterNode starts a clustered node on db (clusterDB's section) and
// waits for its ready log line, which it logs once it has joined.
func startClusterNode(t *testing.T, name, db string, o nodeOptions) *clusterNode {
	t.Helper()
	if o.cluster == "" {
		o.cluster = "e2e"
	}
	dir := t.TempDir()
	n := &clusterNode{name: name, addr: freeAddr(t), gossip: freeAddr(t), log: filepath.Join(dir, "node.log"),
		done: make(chan struct{})}
	n.base = "http://" + n.addr
	gossipPort := n.gossip[strings.LastIndexByte(n.gossip, ':')+1:]
	extra := ""
	if o.extra != "" {
		extra = ", " + o.extra
	}
	// The listen address comes from the environment: settings taken from
	// there are left out of the config hash, so the nodes' hashes match.
	cfg := fmt.Sprintf(`{
		"SqlSettings": {%s},
		"TeamSettings": {"EnableOpenServer": true},
		"ClusterSettings": {"Enable": true, "ClusterName": %q, "BindAddress": "127.0.0.1",
			"AdvertiseAddress": "127.0.0.1", "GossipPort": %s, "EnableGossipEncryption": %t}%s
	}`, db, o.cluster, gossipPort, o.encryption, extra)
	cfgPath := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(n.log)
	if err != nil {
		t.Fatal(err)
	}
	n.cmd = exec.Command(chorusBin, "node", "--config", cfgPath)
	n.cmd.Env = append(os.Environ(), "MM_SERVICESETTINGS_LISTENADDRESS="+n.addr)
	n.cmd.Stdout, n.cmd.Stderr = logFile, logFile
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = n.cmd.Wait(); logFile.Close(); close(n.done) }()
	t.Cleanup(func() {
		_ = n.cmd.Process.Kill()
		<-n.done
		if t.Failed() {
			b, _ := os.ReadFile(n.log)
			t.Logf("node %s (%s) log:\n%s", n.name, n.addr, tail(b, 4000))
		}
	})
	waitFor(t, 30*time.Second, "node "+name+" ready", func() bool {
		select {
		case <-n.done:
			b, _ := os.ReadFile(n.log)
			t.Fatalf("node %s exited before it was ready:\n%s", name, tail(b, 4000))
		default:
		}
		n.id = readyNodeID(n.log)
		return n.id != ""
	})
	return n
}

// startCluster starts one clustered node per name (in order, with o) on a
// fresh database, signs up the first user ("root", a system admin) on
// the first and waits until every node lists all of them.
func startCluster(t *testing.T, o nodeOptions, names ...string) ([]*clusterNode, *apiClient) {
	t.Helper()
	db := clusterDB(t)
	nodes := make([]*clusterNode, len(names))
	for i, name := range names {
		nodes[i] = startClusterNode(t, name, db, o)
	}
	admin := signupAndLogin(t, nodes[0].base, "root")
	waitMembers(t, admin, nodes...)
	return nodes, admin
}

// readyNodeID returns the node_id of the "node ready" line in log, or "".
func readyNodeID(log string) string {
	f, err := os.Open(log)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var line struct {
			Msg    string `json:"msg"`
			NodeID string `json:"node_id"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "node ready" {
			return line.NodeID
		}
	}
	return ""
}

// kill SIGKILLs the node and waits for the process to end.
func (n *clusterNode) kill(t *testing.T) {
	t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-n.done
}

// stop SIGTERMs the node and waits for it to exit cleanly.
func (n *clusterNode) stop(t *testing.T) {
	t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-n.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("node %s still running 30s after SIGTERM", n.name)
	}
	if !n.cmd.ProcessState.Success() {
		t.Fatalf("node %s exited with %v after SIGTERM", n.name, n.cmd.ProcessState)
	}
}

// statusNode is one node of GET /api/v4/cluster/status.
type statusNode struct {
	ID             string   `json:"id"`
	Version        string   `json:"version"`
	SchemaVersion  string   `json:"schema_version"`
	ConfigHash     string   `json:"config_hash"`
	IPAddress      string   `json:"ipaddress"`
	Hostname       string   `json:"hostname"`
	API            string   `json:"api"`
	State          string   `json:"state"`
	Leader         bool     `json:"leader"`
	Self           bool     `json:"self"`
	ClockOffset    *float64 `json:"clock_offset_ms"`
	WebSocketCount *int     `json:"websocket_count"`
	Reachable      bool     `json:"reachable"`
}

// apiClient is a logged-in user of the Mattermost v4 API.
type apiClient struct {
	userID string
	token  string
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// call sends a JSON request to base with the client's token (if any) and
// decodes the JSON answer into out (if not nil). It returns the status.
func (c *apiClient) call(t *testing.T, base, method, path string, body, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c != nil && c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s%s: %v", method, base, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode/100 == 2 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decoding %s: %v", method, path, raw, err)
		}
	}
	return res.StatusCode
}

// must is call that fails the test unless the status is want.
func (c *apiClient) must(t *testing.T, base, method, path string, want int, body, out any) {
	t.Helper()
	if got := c.call(t, base, method, path, body, out); got != want {
		t.Fatalf("%s %s%s = %d, want %d", method, base, path, got, want)
	}
}

// signupAndLogin creates user name on base (the first user of a database
// is its system admin) and logs them in.
func signupAndLogin(t *testing.T, base, name string) *apiClient {
	t.Helper()
	var u struct {
		ID string `json:"id"`
	}
	(*apiClient)(nil).must(t, base, "POST", "/api/v4/users", http.StatusCreated,
		map[string]string{"email": name + "@example.com", "username": name, "password": "Passw0rd!" + name}, &u)
	return login(t, base, name)
}

// login logs user name in on base.
func login(t *testing.T, base, name string) *apiClient {
	t.Helper()
	raw, _ := json.Marshal(map[string]string{"login_id": name, "password": "Passw0rd!" + name})
	res, err := httpClient.Post(base+"/api/v4/users/login", "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var u struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(res.Body).Decode(&u); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("login %s on %s: %d, %v", name, base, res.StatusCode, err)
	}
	return &apiClient{userID: u.ID, token: res.Header.Get("Token")}
}

// clusterStatus returns GET /api/v4/cluster/status on base, or nil when the
// node does not answer 200.
func (c *apiClient) clusterStatus(t *testing.T, base string) []statusNode {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/api/v4/cluster/status", nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := httpClient.Do(req)
	if err != nil {
		return nil
	}
	defer res.Body.Close()
	var nodes []statusNode
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&nodes) != nil {
		return nil
	}
	return nodes
}

// waitMembers waits until every node in nodes reports exactly the ids of
// nodes as the cluster.
func waitMembers(t *testing.T, admin *apiClient, nodes ...*clusterNode) {
	t.Helper()
	want := make([]string, 0, len(nodes))
	for _, n := range nodes {
		want = append(want, n.id)
	}
	for _, n := range nodes {
		waitFor(t, 15*time.Second, fmt.Sprintf("node %s to see %d nodes", n.name, len(nodes)), func() bool {
			return sameIDs(admin.clusterStatus(t, n.base), want)
		})
	}
}

// sameIDs reports whether status lists exactly the ids want.
func sameIDs(status []statusNode, want []string) bool {
	if len(status) != len(want) {
		return false
	}
	have := map[string]bool{}
	for _, s := range status {
		have[s.ID] = true
	}
	for _, id := range want {
		if !have[id] {
			return false
		}
	}
	return true
}

// chat is a team and an open channel whose members are users.
type chat struct {
	teamID, channelID string
}

// newChat makes a team and a channel as owner on base and adds members to
// both.
func newChat(t *testing.T, base string, owner *apiClient, members ...*apiClient) chat {
	t.Helper()
	var team, channel struct {
		ID string `json:"id"`
	}
	owner.must(t, base, "POST", "/api/v4/teams", http.StatusCreated,
		map[string]string{"name": "team-e2e", "display_name": "E2E", "type": "O"}, &team)
	owner.must(t, base, "POST", "/api/v4/channels", http.StatusCreated,
		map[string]string{"team_id": team.ID, "name": "town-e2e", "display_name": "Town", "type": "O"}, &channel)
	for _, m := range members {
		owner.must(t, base, "POST", "/api/v4/teams/"+team.ID+"/members", http.StatusCreated,
			map[string]string{"team_id": team.ID, "user_id": m.userID}, nil)
		owner.must(t, base, "POST", "/api/v4/channels/"+channel.ID+"/members", http.StatusCreated,
			map[string]string{"user_id": m.userID}, nil)
	}
	return chat{teamID: team.ID, channelID: channel.ID}
}

// wsEvent is one event a WebSocket received.
type wsEvent struct {
	Event     string         `json:"event"`
	Data      map[string]any `json:"data"`
	Broadcast map[string]any `json:"broadcast"`
	SeqReply  int            `json:"seq_reply"`
	Status    string         `json:"status"`
}

// socket is a raw gorilla/websocket client of one node.
type socket struct {
	conn   *websocket.Conn
	events chan wsEvent
	seq    int
	mu     sync.Mutex // guards writes
}

// dialSocket opens a WebSocket of c on node base and waits for hello.
func dialSocket(t *testing.T, base string, c *apiClient) *socket {
	t.Helper()
	h := http.Header{}
	h.Set("Authorization", "Bearer "+c.token)
	conn, _, err := websocket.DefaultDialer.DialContext(t.Context(), "ws"+strings.TrimPrefix(base, "http")+"/api/v4/websocket", h)
	if err != nil {
		t.Fatalf("dialing %s: %v", base, err)
	}
	s := &socket{conn: conn, events: make(chan wsEvent, 256)}
	go func() {
		defer close(s.events)
		for {
			_, raw, err := conn.ReadMessage()
			if err != nil {
				return
			}
			var ev wsEvent
			if json.Unmarshal(raw, &ev) == nil {
				select {
				case s.events <- ev:
				default: // a test that stopped reading must not block the reader
				}
			}
		}
	}()
	t.Cleanup(func() { conn.Close() })
	s.waitEvent(t, "hello", nil)
	return s
}

// waitEvent waits up to 10 s for an event named name for which match (if
// not nil) holds, skipping others, and returns it.
func (s *socket) waitEvent(t *testing.T, name string, match func(wsEvent) bool) wsEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("socket closed while waiting for %s", name)
			}
			if ev.Event == name && (match == nil || match(ev)) {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event within 10s", name)
		}
	}
}

// send sends a client action.
func (s *socket) send(t *testing.T, action string, data any) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	if err := s.conn.WriteJSON(map[string]any{"seq": s.seq, "action": action, "data": data}); err != nil {
		t.Fatalf("sending %s: %v", action, err)
	}
}

// closed waits up to 10 s for the server to close the socket.
func (s *socket) closed(t *testing.T) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-s.events:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("socket still open after 10s")
		}
	}
}
