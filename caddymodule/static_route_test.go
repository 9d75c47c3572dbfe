package caddymodule

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/seed331fb32b/chorus/balancer"
)

// TestChorusCachesStaticRouteOnly runs the chorus directive with its
// default static cache in this process's Caddy, in front of a real
// backend: /static/* is cached with the seed's min_uses 2, and an API
// answer is never cached nor marked.
func TestChorusCachesStaticRouteOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Caddy")
	}
	var static, api atomic.Int32
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == balancer.PingPath:
			w.WriteHeader(http.StatusOK)
		case strings.HasPrefix(r.URL.Path, "/static/"):
			static.Add(1)
			w.Header().Set("Cache-Control", "max-age=60")
			io.WriteString(w, "console.log('chorus')")
		default:
			api.Add(1)
			// What Mattermost says of /api/v4/users/me, and it is public-looking
			// enough that only the route keeps it out of the cache.
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"me"}`)
		}
	}))
	t.Cleanup(backend.Close)

	front, admin := freeAddr(t), freeAddr(t)
	loadCaddyfile(t, fmt.Sprintf(`{
	admin %s
	skip_install_trust
	persist_config off
}
http://%s {
	chorus %s {
		cluster staticcache
		health_interval 50ms
		health_passes 1
		slow_start 0s
	}
}
`, admin, front, strings.TrimPrefix(backend.URL, "http://")))
	t.Cleanup(func() { _ = caddy.Stop() })
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := client.Get("http://" + front + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, resp.Header.Get("Cache-Status")
	}
	waitUntil(t, "the node to be active", func() bool {
		code, _ := get(balancer.PingPath)
		return code == http.StatusOK
	})

	tests := []struct {
		path       string
		wantStatus string // a part of Cache-Status; "" means no such header
	}{
		{"/static/main.js", "fwd=uri-miss"}, // first use: min_uses 2 stores nothing
		{"/static/main.js", "stored"},       // second use: stored
		{"/static/main.js", "; hit"},        // third: served from memory
		{"/api/v4/users/me", ""},
		{"/api/v4/users/me", ""},
	}
	for i, tt := range tests {
		code, cs := get(tt.path)
		if code != http.StatusOK {
			t.Fatalf("request %d %s: status %d", i+1, tt.path, code)
		}
		if (tt.wantStatus == "" && cs != "") || !strings.Contains(cs, tt.wantStatus) {
			t.Fatalf("request %d %s: Cache-Status %q; want %q", i+1, tt.path, cs, tt.wantStatus)
		}
	}
	if got := static.Load(); got != 2 {
		t.Errorf("backend served /static/main.js %d times; want 2 (the third was a hit)", got)
	}
	if got := api.Load(); got != 2 {
		t.Errorf("backend served the API %d times; want 2 (never cached)", got)
	}
}
