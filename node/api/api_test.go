package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/seed331fb32b/chorus/node/api"
	"github.com/seed331fb32b/chorus/node/app"
	"github.com/seed331fb32b/chorus/node/config"
	"github.com/seed331fb32b/chorus/node/store"
)

// testNode is the API in front of an app on a real SQLite store, started
// from a config.json in a temporary directory.
type testNode struct {
	app        *app.App
	store      *store.Store
	handler    http.Handler
	configPath string
}

func newTestNode(t *testing.T, service config.ServiceSettings) *testNode {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	content := fmt.Sprintf(`{"ServiceSettings": {"GoroutineHealthThreshold": %d}, "SqlSettings": {"DataSource": %q}}`,
		service.GoroutineHealthThreshold, filepath.Join(dir, "chorus.db"))
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	logger := zaptest.NewLogger(t)
	st, err := store.Open(t.Context(), cfg.SqlSettings, logger)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	a := app.New(app.Deps{Config: cfg, ConfigPath: path, System: st.System(), Database: st, Logger: logger})
	return &testNode{app: a, store: st, handler: api.New(a, "test", logger), configPath: path}
}

// get serves one GET request and returns the response with its body read.
func (n *testNode) get(t *testing.T, target string) (*http.Response, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	n.handler.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, target, nil))
	res := rec.Result()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func decode(t *testing.T, body []byte) map[string]any {
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
	for _, target := range []string{"/api/v4/system/ping", "/api/v4/system/ping", "/api/v4/xyz", "/nowhere"} {
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
