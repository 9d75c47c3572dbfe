package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/seed331fb32b/chorus/node/app"
	"github.com/seed331fb32b/chorus/node/cluster"
)

// freeAddress returns a 127.0.0.1 address with a port free right now. The
// config must name the port before the node listens, so 127.0.0.1:0 will
// not do.
func freeAddress(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// writeConfig writes a config.json listening on addr with a SQLite database
// in a fresh directory and returns its path.
func writeConfig(t *testing.T, addr string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`{
		"ServiceSettings": {"ListenAddress": %q},
		"SqlSettings": {"DriverName": "sqlite", "DataSource": %q}
	}`, addr, filepath.Join(dir, "data", "chorus.db"))
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// testLogger logs to the test and records entries for the test to wait on.
func testLogger(t *testing.T) (*zap.Logger, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.InfoLevel)
	return zap.New(zapcore.NewTee(core, zaptest.NewLogger(t).Core())), logs
}

// waitFor polls cond until it holds, failing the test with what after the
// deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func TestRunServesUntilCancelled(t *testing.T) {
	addr := freeAddress(t)
	logger, logs := testLogger(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	done := make(chan error, 1)
	go func() { done <- Run(ctx, writeConfig(t, addr), logger) }()
	waitFor(t, "the ready log entry", func() bool {
		select {
		case err := <-done:
			t.Fatalf("Run returned before ready: %v", err)
		default:
		}
		return logs.FilterMessage(ReadyMessage).Len() > 0
	})
	ready := logs.FilterMessage(ReadyMessage).All()[0].ContextMap()
	if ready["address"] != addr {
		t.Errorf("ready address = %v, want %s", ready["address"], addr)
	}

	for _, target := range []string{"/api/v4/system/ping", "/api/v4/system/ping?get_server_status=true"} {
		res, err := http.Get("http://" + addr + target)
		if err != nil {
			t.Fatalf("GET %s: %v", target, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200; body %s", target, res.StatusCode, body)
		}
		var m map[string]string
		if err := json.Unmarshal(body, &m); err != nil || m["status"] != "OK" {
			t.Errorf("GET %s body = %s (%v), want status OK", target, body, err)
		}
	}

	// The admin endpoints reach this node's config file and database: a
	// reload and a recycle succeed for its system admin, the first user.
	token := signUpAdmin(t, "http://"+addr)
	for _, target := range []string{"/api/v4/config/reload", "/api/v4/database/recycle"} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+addr+target, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", target, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || string(body) != `{"status":"OK"}` {
			t.Errorf("POST %s = %d %s, want 200 {\"status\":\"OK\"}", target, res.StatusCode, body)
		}
	}

	// A WebSocket open when the node stops is closed, not left hanging.
	ws, _, err := websocket.DefaultDialer.DialContext(t.Context(), "ws://"+addr+"/api/v4/websocket",
		http.Header{"Authorization": {"Bearer " + token}})
	if err != nil {
		t.Fatalf("dialing the WebSocket: %v", err)
	}
	defer ws.Close()
	if _, _, err := ws.ReadMessage(); err != nil { // hello
		t.Fatalf("reading hello: %v", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(ShutdownTimeout + 5*time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Error("node still accepts connections after Run returned")
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			if strings.Contains(err.Error(), "timeout") {
				t.Error("the WebSocket stayed open after the node stopped")
			}
			break
		}
	}
}

// signUpAdmin signs up the node's first user, its system admin, and
// returns their session token.
func signUpAdmin(t *testing.T, base string) string {
	t.Helper()
	for _, step := range []struct{ target, body string }{
		{"/api/v4/users", `{"username":"root","email":"root@example.com","password":"Passw0rd!root"}`},
		{"/api/v4/users/login", `{"login_id":"root","password":"Passw0rd!root"}`},
	} {
		res, err := http.Post(base+step.target, "application/json", strings.NewReader(step.body))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode >= 300 {
			t.Fatalf("POST %s = %d %s", step.target, res.StatusCode, body)
		}
		if token := res.Header.Get("Token"); token != "" {
			return token
		}
	}
	t.Fatal("login gave no Token header")
	return ""
}

func TestRunErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	tests := []struct {
		name   string
		config func(t *testing.T) string
		want   []string
	}{
		{
			name:   "missing config file is named",
			config: func(t *testing.T) string { return filepath.Join(t.TempDir(), "missing.json") },
			want:   []string{"loading config", "missing.json"},
		},
		{
			name: "malformed config gives line and column",
			config: func(t *testing.T) string {
				path := filepath.Join(t.TempDir(), "config.json")
				if err := os.WriteFile(path, []byte("{\n  \"SqlSettings\": bad\n}"), 0o600); err != nil {
					t.Fatal(err)
				}
				return path
			},
			want: []string{"config.json:2:18: invalid character"},
		},
		{
			name:   "listen address in use is named",
			config: func(t *testing.T) string { return writeConfig(t, busy.Addr().String()) },
			want:   []string{"listening on ServiceSettings.ListenAddress", busy.Addr().String()},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, _ := testLogger(t)
			err := Run(t.Context(), tt.config(t), logger)
			if err == nil {
				t.Fatal("Run succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans several lines", err)
			}
		})
	}
}

func TestLineError(t *testing.T) {
	inner := errors.New("failed to connect to `user=u database=d`:\n\thost a: refused\n\thost b: refused")
	err := &lineError{err: fmt.Errorf("opening postgres database: connecting: %w", inner)}
	want := "opening postgres database: connecting: failed to connect to `user=u database=d`: host a: refused; host b: refused"
	if err.Error() != want {
		t.Errorf("Error() = %q\nwant %q", err.Error(), want)
	}
	if !errors.Is(err, inner) {
		t.Error("lineError does not unwrap")
	}
}

// The app and the cluster name the inter-node events alike: node/app may
// not import node/cluster, so it declares the names again.
func TestAppAndClusterNameEventsAlike(t *testing.T) {
	pairs := []struct{ app, cluster string }{
		{app.ClusterEventUpdateStatus, cluster.EventUpdateStatus},
		{app.ClusterEventClearSessionUser, cluster.EventClearSessionUser},
		{app.ClusterEventInvalidateUser, cluster.EventInvalidateUser},
		{app.ClusterEventInvalidateChannelMember, cluster.EventInvalidateChannelMembers},
		{app.ClusterEventInvalidateAllCaches, cluster.EventInvalidateAllCaches},
	}
	for _, p := range pairs {
		if p.app != p.cluster {
			t.Errorf("app sends %q where the cluster names %q", p.app, p.cluster)
		}
	}
}
