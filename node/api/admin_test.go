package api_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seed331fb32b/chorus/node/config"
	"github.com/seed331fb32b/chorus/node/store"
)

// post serves one POST request from remoteAddr with the given headers.
func (n *testNode) post(t *testing.T, target, remoteAddr string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, target, nil)
	req.RemoteAddr = remoteAddr
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	n.handler.ServeHTTP(rec, req)
	return rec.Result(), rec.Body.Bytes()
}

// writeNodeConfig replaces the node's config.json.
func (n *testNode) writeNodeConfig(t *testing.T, content string) {
	t.Helper()
	if err := os.WriteFile(n.configPath, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

const localAddr = "127.0.0.1:40000"

func TestAdminEndpointsAreLocalOnly(t *testing.T) {
	n := newTestNode(t, config.ServiceSettings{GoroutineHealthThreshold: -1})
	tests := []struct {
		name     string
		remote   string
		header   map[string]string
		wantCode int
	}{
		{"IPv4 loopback", "127.0.0.1:40000", nil, http.StatusOK},
		{"IPv6 loopback", "[::1]:40000", nil, http.StatusOK},
		{"another host", "192.0.2.7:40000", nil, http.StatusForbidden},
		{"through a proxy on this host (X-Forwarded-For)", "127.0.0.1:40000", map[string]string{"X-Forwarded-For": "203.0.113.9"}, http.StatusForbidden},
		{"through a proxy on this host (X-Real-IP)", "127.0.0.1:40000", map[string]string{"X-Real-IP": "203.0.113.9"}, http.StatusForbidden},
		{"through a proxy on this host (Forwarded)", "127.0.0.1:40000", map[string]string{"Forwarded": "for=203.0.113.9"}, http.StatusForbidden},
	}
	for _, target := range []string{"/api/v4/config/reload", "/api/v4/database/recycle"} {
		for _, tt := range tests {
			t.Run(target+" from "+tt.name, func(t *testing.T) {
				res, body := n.post(t, target, tt.remote, tt.header)
				if res.StatusCode != tt.wantCode {
					t.Fatalf("status code = %d, want %d; body %s", res.StatusCode, tt.wantCode, body)
				}
				if res.Header.Get("Content-Type") != "application/json" {
					t.Errorf("Content-Type = %q", res.Header.Get("Content-Type"))
				}
				if tt.wantCode == http.StatusOK {
					if string(body) != `{"status":"OK"}` {
						t.Errorf("body = %s, want {\"status\":\"OK\"}", body)
					}
					if got := res.Header.Get("Cache-Control"); got != "no-cache, no-store, must-revalidate" {
						t.Errorf("Cache-Control = %q", got)
					}
					return
				}
				m := decode(t, body)
				if m["id"] != "api.context.permissions.app_error" || m["status_code"] != float64(403) || m["request_id"] != res.Header.Get("X-Request-ID") {
					t.Errorf("403 body = %v", m)
				}
			})
		}
	}
}

func TestReloadConfigEndpoint(t *testing.T) {
	n := newTestNode(t, config.ServiceSettings{GoroutineHealthThreshold: -1})
	dataSource := n.app.Config().SqlSettings.DataSource

	t.Run("a changed setting applies after the reload", func(t *testing.T) {
		n.writeNodeConfig(t, fmt.Sprintf(`{"ServiceSettings": {"GoroutineHealthThreshold": 1}, "SqlSettings": {"DataSource": %q}}`, dataSource))
		if res, body := n.post(t, "/api/v4/config/reload", localAddr, nil); res.StatusCode != http.StatusOK {
			t.Fatalf("reload = %d %s", res.StatusCode, body)
		}
		if res, body := n.get(t, "/api/v4/system/ping"); res.StatusCode != http.StatusInternalServerError {
			t.Errorf("ping after reloading a goroutine threshold of 1 = %d %s, want 500", res.StatusCode, body)
		}
	})
	t.Run("a broken file answers 500 and keeps the config", func(t *testing.T) {
		before := n.app.Config()
		n.writeNodeConfig(t, "{\n  \"SqlSettings\": {\"MaxOpenConns\": \"many\"}\n}")
		res, body := n.post(t, "/api/v4/config/reload", localAddr, nil)
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
func TestManualFailover(t *testing.T) {
	n := newTestNode(t, config.ServiceSettings{GoroutineHealthThreshold: -1})
	ctx := t.Context()
	if err := n.store.System().SaveOrUpdate(ctx, "where", "old master"); err != nil {
		t.Fatal(err)
	}
	newMaster := filepath.Join(t.TempDir(), "new", "chorus.db")
	n.writeNodeConfig(t, fmt.Sprintf(`{"ServiceSettings": {"GoroutineHealthThreshold": -1}, "SqlSettings": {"DataSource": %q}}`, newMaster))

	for _, target := range []string{"/api/v4/config/reload", "/api/v4/database/recycle"} {
		if res, body := n.post(t, target, localAddr, nil); res.StatusCode != http.StatusOK {
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
	n := newTestNode(t, config.ServiceSettings{GoroutineHealthThreshold: -1})
	n.writeNodeConfig(t, `{"ServiceSettings": {"GoroutineHealthThreshold": -1}, "SqlSettings": {"DataSource": "/proc/chorus/cannot.db"}}`)
	if res, body := n.post(t, "/api/v4/config/reload", localAddr, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("reload = %d %s", res.StatusCode, body)
	}
	res, body := n.post(t, "/api/v4/database/recycle", localAddr, nil)
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
