package api_test

import (
	"maps"
	"net/http"
	"slices"
	"testing"

	"github.com/seed331fb32b/chorus/node/config"
)

func TestPing(t *testing.T) {
	tests := []struct {
		name          string
		target        string
		threshold     int
		databaseDown  bool
		wantCode      int
		wantStatus    string
		wantDBStatus  string // "" means no database_status key nor headers
		wantExactBody string // checked when set
	}{
		{
			name:          "healthy node answers 200 with Mattermost's body",
			target:        "/api/v4/system/ping",
			threshold:     -1,
			wantCode:      http.StatusOK,
			wantStatus:    "OK",
			wantExactBody: `{"ActiveSearchBackend":"database","AndroidLatestVersion":"","AndroidMinVersion":"","IosLatestVersion":"","IosMinVersion":"","status":"OK"}`,
		},
		{
			name:         "server status with a healthy database adds database_status and headers",
			target:       "/api/v4/system/ping?get_server_status=true",
			threshold:    -1,
			wantCode:     http.StatusOK,
			wantStatus:   "OK",
			wantDBStatus: "OK",
		},
		{
			name:         "database down makes the node unhealthy with 500",
			target:       "/api/v4/system/ping?get_server_status=true",
			threshold:    -1,
			databaseDown: true,
			wantCode:     http.StatusInternalServerError,
			wantStatus:   "UNHEALTHY",
			wantDBStatus: "UNHEALTHY",
		},
		{
			name:         "database down with REST semantics answers 200 UNHEALTHY",
			target:       "/api/v4/system/ping?get_server_status=true&use_rest_semantics=true",
			threshold:    -1,
			databaseDown: true,
			wantCode:     http.StatusOK,
			wantStatus:   "UNHEALTHY",
			wantDBStatus: "UNHEALTHY",
		},
		{
			name:         "use_rest_semantics other than true keeps the 500",
			target:       "/api/v4/system/ping?get_server_status=true&use_rest_semantics=1",
			threshold:    -1,
			databaseDown: true,
			wantCode:     http.StatusInternalServerError,
			wantStatus:   "UNHEALTHY",
			wantDBStatus: "UNHEALTHY",
		},
		{
			name:         "database is not checked without get_server_status",
			target:       "/api/v4/system/ping?get_server_status=false",
			threshold:    -1,
			databaseDown: true,
			wantCode:     http.StatusOK,
			wantStatus:   "OK",
		},
		{
			name:       "goroutines over the threshold answer 500",
			target:     "/api/v4/system/ping",
			threshold:  1,
			wantCode:   http.StatusInternalServerError,
			wantStatus: "UNHEALTHY",
		},
		{
			name:         "goroutines over the threshold with a healthy database",
			target:       "/api/v4/system/ping?get_server_status=true&use_rest_semantics=true",
			threshold:    1,
			wantCode:     http.StatusOK,
			wantStatus:   "UNHEALTHY",
			wantDBStatus: "OK",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newTestNode(t, config.ServiceSettings{GoroutineHealthThreshold: tt.threshold})
			if tt.databaseDown {
				if err := n.store.Close(); err != nil {
					t.Fatal(err)
				}
			}
			res, body := n.get(t, tt.target)

			if res.StatusCode != tt.wantCode {
				t.Errorf("status code = %d, want %d; body %s", res.StatusCode, tt.wantCode, body)
			}
			if got := res.Header.Values("Content-Type"); !slices.Equal(got, []string{"application/json"}) {
				t.Errorf("Content-Type = %q, want exactly application/json", got)
			}
			if tt.wantExactBody != "" && string(body) != tt.wantExactBody {
				t.Errorf("body = %s\nwant %s", body, tt.wantExactBody)
			}
			m := decode(t, body)
			wantKeys := []string{"ActiveSearchBackend", "AndroidLatestVersion", "AndroidMinVersion", "IosLatestVersion", "IosMinVersion", "status"}
			if tt.wantDBStatus != "" {
				wantKeys = append(wantKeys, "database_status")
			}
			if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, slices.Sorted(slices.Values(wantKeys))) {
				t.Errorf("body keys = %q, want %q", got, wantKeys)
			}
			if m["status"] != tt.wantStatus {
				t.Errorf("status = %v, want %s", m["status"], tt.wantStatus)
			}
			if tt.wantDBStatus != "" && m["database_status"] != tt.wantDBStatus {
				t.Errorf("database_status = %v, want %s", m["database_status"], tt.wantDBStatus)
			}
			if got := res.Header.Get("status"); tt.wantDBStatus != "" && got != tt.wantStatus {
				t.Errorf("status header = %q, want %q", got, tt.wantStatus)
			}
			if got := res.Header.Get("database_status"); got != tt.wantDBStatus {
				t.Errorf("database_status header = %q, want %q", got, tt.wantDBStatus)
			}
			if _, ok := m["filestore_status"]; ok {
				t.Error("body has filestore_status; Chorus has no file store")
			}
		})
	}
}

func TestPingRemovesItsHealthCheckRow(t *testing.T) {
	n := newTestNode(t, config.ServiceSettings{GoroutineHealthThreshold: -1})
	res, body := n.get(t, "/api/v4/system/ping?get_server_status=true")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status code = %d; body %s", res.StatusCode, body)
	}
	_, err := n.store.System().Get(t.Context(), "health_check_"+n.app.NodeID())
	if err == nil {
		t.Error("health check row left in Systems after the ping")
	}
}
