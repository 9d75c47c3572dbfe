package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"golang.org/x/crypto/bcrypt"

	"github.com/seed331fb32b/chorus/node/api"
	"github.com/seed331fb32b/chorus/node/app"
	"github.com/seed331fb32b/chorus/node/bind"
	"github.com/seed331fb32b/chorus/node/config"
	"github.com/seed331fb32b/chorus/node/store"
	"github.com/seed331fb32b/chorus/node/ws"
)

// testNode is the API in front of an app on a real SQLite store, started
// from a config.json in a temporary directory, with its WebSocket hub.
type testNode struct {
	app        *app.App
	store      *store.Store
	hub        *ws.Hub
	handler    http.Handler
	configPath string
}

// newTestNode starts a node whose config.json sets service's goroutine
// threshold, with open sign-up.
func newTestNode(t testing.TB, service config.ServiceSettings) *testNode {
	t.Helper()
	return newTestNodeWith(t, fmt.Sprintf(`"ServiceSettings": {"GoroutineHealthThreshold": %d}, "TeamSettings": {"EnableOpenServer": true}`,
		service.GoroutineHealthThreshold))
}

// newTestNodeWith starts a node whose config.json holds sections (JSON
// object members, without braces) and its SQLite data source.
func newTestNodeWith(t testing.TB, sections string) *testNode {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	content := fmt.Sprintf(`{%s, "SqlSettings": {"DataSource": %q}}`, sections, filepath.Join(dir, "chorus.db"))
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	logger := testLogger(t)
	st, err := store.Open(t.Context(), cfg.SqlSettings, logger)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return startNode(t, cfg, path, st)
}

// startNode builds the app, hub and API over st.
func startNode(t testing.TB, cfg *config.Config, path string, st *store.Store) *testNode {
	t.Helper()
	logger := testLogger(t)
	a := app.New(app.Deps{Config: cfg, ConfigPath: path, System: st.System(), Database: st,
		Stores: bind.Stores(st), PasswordCost: bcrypt.MinCost, Logger: logger})
	hub, err := api.NewHub(a, api.HubConfig(a, "test"), logger.Named("ws"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hub.Close() })
	return &testNode{app: a, store: st, hub: hub, handler: api.New(a, hub, "test", logger), configPath: path}
}

// testLogger logs to the test, except for a fuzz target, whose
// requests run inside the fuzz function where F's log must not be used.
func testLogger(t testing.TB) *zap.Logger {
	if _, ok := t.(*testing.F); ok {
		return zap.NewNop()
	}
	return zaptest.NewLogger(t)
}

// get serves one GET request and returns the response with its body read.
func (n *testNode) get(t testing.TB, target string) (*http.Response, []byte) {
	t.Helper()
	return n.do(t, http.MethodGet, target, "", nil)
}

// do serves one request with an optional bearer token and JSON body (a
// string is sent as is, anything else marshalled; nil sends none).
func (n *testNode) do(t testing.TB, method, target, token string, body any, header ...string) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req := httptest.NewRequestWithContext(t.Context(), method, target, r)
	if token != "" {
		req.Header.Set("Authorization", "BEARER "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	n.handler.ServeHTTP(rec, req)
	res := rec.Result()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, out
}

// getAs serves a GET with token and returns the body of its 200 answer.
func (n *testNode) getAs(t testing.TB, token, target string) []byte {
	t.Helper()
	res, body := n.do(t, http.MethodGet, target, token, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d %s", target, res.StatusCode, body)
	}
	return body
}

func decode(t testing.TB, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body %s is not a JSON object: %v", body, err)
	}
	return m
}

func TestCommonHeaders(t *testing.T) {
	n := newTestNode(t, config.ServiceSettings{GoroutineHealthThreshold: -1})
	seen := map[string]bool{}
	for _, target := range []string{"/api/v4/system/ping", "/api/v4/system/ping", "/api/v4/xyz", "/nowhere", "/api/v4/users/me", "/api/v4/emoji"} {
		t.Run(target, func(t *testing.T) {
			res, _ := n.get(t, target)
			id := res.Header.Get("X-Request-ID")
			if !app.IsValidID(id) {
				t.Errorf("X-Request-ID = %q, want a 26-character id", id)
			}
			if seen[id] {
				t.Errorf("X-Request-ID %q repeated", id)
			}
			seen[id] = true
			if got := res.Header.Get("X-Version-Id"); got != "chorus.test" {
				t.Errorf("X-Version-Id = %q, want chorus.test", got)
			}
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", got)
			}
			if strings.HasPrefix(target, "/api/") && res.Header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type = %q, want exactly application/json", res.Header.Get("Content-Type"))
			}
		})
	}
}

func TestAPIGetIsAlreadyExpired(t *testing.T) {
	n := newTestNode(t, config.ServiceSettings{GoroutineHealthThreshold: -1})
	res, _ := n.get(t, "/api/v4/system/ping")
	if got := res.Header.Get("Expires"); got != "0" {
		t.Errorf("Expires = %q, want \"0\" as Mattermost sends on API GETs", got)
	}
}
