package api_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seed331fb32b/chorus/node/config"
	"github.com/seed331fb32b/chorus/node/store"
)

// testService is the ServiceSettings of most test nodes.
var testService = config.ServiceSettings{GoroutineHealthThreshold: -1}

// writeNodeConfig replaces the node's config.json.
func (n *testNode) writeNodeConfig(t *testing.T, content string) {
	t.Helper()
	if err := os.WriteFile(n.configPath, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// adminNode is a node whose first user, its system admin, and a second,
// plain user are logged in.
func adminNode(t *testing.T) (n *testNode, admin, user *account) {
	t.Helper()
	n = newTestNode(t, testService)
	return n, n.signup(t, "", "root"), n.signup(t, "", "plain")
}

func TestAdminEndpointsNeedASystemAdmin(t *testing.T) {
	n, admin, user := adminNode(t)
	tests := []struct {
		name     string
		token    string
		wantCode int
		wantID   string
	}{
		{"system admin", admin.token, http.StatusOK, ""},
		{"plain user", user.token, http.StatusForbidden, "api.context.permissions.app_error"},
		{"no session", "", http.StatusUnauthorized, "api.context.session_expired.app_error"},
		{"unknown token", "xxxxxxxxxxxxxxxxxxxxxxxxxx", http.StatusUnauthorized, "api.context.session_expired.app_error"},
	}
	for _, target := range []string{"POST /api/v4/config/reload", "POST /api/v4/database/recycle", "GET /api/v4/config"} {
		method, path, _ := strings.Cut(target, " ")
		for _, tt := range tests {
			t.Run(target+" as "+tt.name, func(t *testing.T) {
				res, body := n.do(t, method, path, tt.token, nil)
				if res.StatusCode != tt.wantCode {
					t.Fatalf("status code = %d, want %d; body %s", res.StatusCode, tt.wantCode, body)
				}
				if res.Header.Get("Content-Type") != "application/json" {
					t.Errorf("Content-Type = %q", res.Header.Get("Content-Type"))
				}
				if tt.wantCode == http.StatusOK {
					if method == http.MethodPost && string(body) != `{"status":"OK"}` {
						t.Errorf("body = %s, want {\"status\":\"OK\"}", body)
					}
					return
				}
				m := decode(t, body)
				if m["id"] != tt.wantID || m["status_code"] != float64(tt.wantCode) || m["request_id"] != res.Header.Get("X-Request-ID") {
					t.Errorf("error body = %v", m)
				}
			})
		}
	}
}

func TestGetConfigRedactsDataSources(t *testing.T) {
	n, admin, _ := adminNode(t)
	dataSource := n.app.Config().SqlSettings.DataSource
	n.writeNodeConfig(t, fmt.Sprintf(`{"ServiceSettings": {"GoroutineHealthThreshold": -1}, "TeamSettings": {"EnableOpenServer": true},
		"SqlSettings": {"DataSource": %q, "DataSourceReplicas": ["postgres://mm:hunter2@replica/mm"]}}`, dataSource))
	if res, body := n.do(t, http.MethodPost, "/api/v4/config/reload", admin.token, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("reload = %d %s", res.StatusCode, body)
	}
	res, body := n.do(t, http.MethodGet, "/api/v4/config", admin.token, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET config = %d %s", res.StatusCode, body)
	}
	if strings.Contains(string(body), "hunter2") || strings.Contains(string(body), dataSource) {
		t.Errorf("config leaks a data source: %s", body)
	}
	cfg := decodeAs[config.Config](t, body)
	if cfg.SqlSettings.DataSource != config.FakeSetting || cfg.SqlSettings.DataSourceReplicas[0] != config.FakeSetting {
		t.Errorf("SqlSettings = %+v, want every data source as %s", cfg.SqlSettings, config.FakeSetting)
	}
	if !cfg.TeamSettings.EnableOpenServer || cfg.SqlSettings.DriverName != "sqlite" {
		t.Errorf("config = %+v, want the node's settings", cfg)
	}
}

func TestReloadConfigEndpoint(t *testing.T) {
	n, admin, _ := adminNode(t)
	dataSource := n.app.Config().SqlSettings.DataSource
	t.Run("a changed setting applies after the reload", func(t *testing.T) {
		n.writeNodeConfig(t, fmt.Sprintf(`{"ServiceSettings": {"GoroutineHealthThreshold": 1}, "SqlSettings": {"DataSource": %q}}`, dataSource))
		if res, body := n.do(t, http.MethodPost, "/api/v4/config/reload", admin.token, nil); res.StatusCode != http.StatusOK {
			t.Fatalf("reload = %d %s", res.StatusCode, body)
		}
		if res, body := n.get(t, "/api/v4/system/ping"); res.StatusCode != http.StatusInternalServerError {
			t.Errorf("ping after reloading a goroutine threshold of 1 = %d %s, want 500", res.StatusCode, body)
		}
	})
	t.Run("a broken file answers 500 and keeps the config", func(t *testing.T) {
		before := n.app.Config()
		n.writeNodeConfig(t, "{\n  \"SqlSettings\": {\"MaxOpenConns\": \"many\"}\n}")
		res, body := n.do(t, http.MethodPost, "/api/v4/config/reload", admin.token, nil)
		if res.StatusCode != http.StatusInternalServerError {
			t.Fatalf("reload = %d %s, want 500", res.StatusCode, body)
		}
		m := decode(t, body)
		if m["id"] != "api.config.reload_config.app_error" || m["status_code"] != float64(500) {
			t.Errorf("body = %v", m)
		}
		if detail, _ := m["detailed_error"].(string); !strings.Contains(detail, "config.json:2:") || !strings.Contains(detail, "SqlSettings.MaxOpenConns") {
			t.Errorf("detailed_error = %q, want the file position and the setting", detail)
		}
		if n.app.Config() != before {
			t.Error("a failed reload replaced the config")
		}
	})
}

// TestManualFailover is the seeds' "manual failover for master database"
// with no restart: point config.json at the new master, reload, recycle.
// The admin's session was cached, so it outlives the move to an empty
// database.
func TestManualFailover(t *testing.T) {
	n, admin, _ := adminNode(t)
	ctx := t.Context()
	if err := n.store.System().SaveOrUpdate(ctx, "where", "old master"); err != nil {
		t.Fatal(err)
	}
	newMaster := filepath.Join(t.TempDir(), "new", "chorus.db")
	n.writeNodeConfig(t, fmt.Sprintf(`{"ServiceSettings": {"GoroutineHealthThreshold": -1}, "SqlSettings": {"DataSource": %q}}`, newMaster))
	for _, target := range []string{"/api/v4/config/reload", "/api/v4/database/recycle"} {
		if res, body := n.do(t, http.MethodPost, target, admin.token, nil); res.StatusCode != http.StatusOK {
			t.Fatalf("POST %s = %d %s", target, res.StatusCode, body)
		}
	}
	if res, body := n.get(t, "/api/v4/system/ping?get_server_status=true"); res.StatusCode != http.StatusOK {
		t.Fatalf("ping after failover = %d %s", res.StatusCode, body)
	}
	if _, err := n.store.System().Get(ctx, "where"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the store still reads the old master: err = %v", err)
	}
	if _, err := os.Stat(newMaster); err != nil {
		t.Errorf("new master file: %v", err)
	}
}

func TestRecycleFailureKeepsTheDatabase(t *testing.T) {
	n, admin, _ := adminNode(t)
	n.writeNodeConfig(t, `{"ServiceSettings": {"GoroutineHealthThreshold": -1}, "SqlSettings": {"DataSource": "/proc/chorus/cannot.db"}}`)
	if res, body := n.do(t, http.MethodPost, "/api/v4/config/reload", admin.token, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("reload = %d %s", res.StatusCode, body)
	}
	res, body := n.do(t, http.MethodPost, "/api/v4/database/recycle", admin.token, nil)
	if res.StatusCode != http.StatusInternalServerError {
		t.Fatalf("recycle onto an unusable master = %d %s, want 500", res.StatusCode, body)
	}
	if m := decode(t, body); m["id"] != "api.database.recycle.app_error" || !strings.Contains(m["detailed_error"].(string), "SqlSettings.DataSource") {
		t.Errorf("body = %v", m)
	}
	if res, body := n.get(t, "/api/v4/system/ping?get_server_status=true"); res.StatusCode != http.StatusOK {
		t.Errorf("ping after a failed recycle = %d %s, want the old database still working", res.StatusCode, body)
	}
}
