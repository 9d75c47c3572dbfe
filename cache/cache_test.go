package cache

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestMinUsesStoresOnlyAfterNRequests(t *testing.T) {
	o := newOrigin(t, static("app", "Cache-Control: max-age=60"))
	cfg := testConfig(newClock())
	cfg.MinUses = 3
	f := newFront(t, cfg, proxyTo(o))
	for i := 1; i <= 2; i++ {
		r := f.get(t, "/static/app.js")
		wantStatus(t, r, "fwd=uri-miss", "detail=min-uses")
		if strings.Contains(r.cacheStatus(), "stored") {
			t.Fatalf("request %d stored", i)
		}
	}
	wantStatus(t, f.get(t, "/static/app.js"), "stored")
	wantStatus(t, f.get(t, "/static/app.js"), "hit")
	if o.requests.Load() != 3 {
		t.Fatalf("upstream got %d requests; want 3", o.requests.Load())
	}
}

func TestHeadIsAnsweredFromAGet(t *testing.T) {
	t.Run("HEAD after GET is a hit", func(t *testing.T) {
		o := newOrigin(t, static("0123456789", "Cache-Control: max-age=60", "Content-Type: text/css"))
		f := newFront(t, testConfig(newClock()), proxyTo(o))
		f.get(t, "/static/a.css")
		r := f.do(t, http.MethodHead, "/static/a.css")
		wantStatus(t, r, "hit")
		if r.body != "" || r.header.Get("Content-Length") != "10" || r.header.Get("Content-Type") != "text/css" {
			t.Fatalf("HEAD: body %q, Content-Length %q, Content-Type %q", r.body, r.header.Get("Content-Length"), r.header.Get("Content-Type"))
		}
		if o.requests.Load() != 1 {
			t.Fatalf("upstream got %d requests; want 1", o.requests.Load())
		}
	})
	t.Run("HEAD miss fills with a GET", func(t *testing.T) {
		o := newOrigin(t, static("0123456789", "Cache-Control: max-age=60"))
		f := newFront(t, testConfig(newClock()), proxyTo(o))
		r := f.do(t, http.MethodHead, "/static/a.css")
		wantStatus(t, r, "stored")
		if r.body != "" || o.last().Method != http.MethodGet {
			t.Fatalf("HEAD miss: body %q, upstream method %s", r.body, o.last().Method)
		}
		r = f.get(t, "/static/a.css")
		wantStatus(t, r, "hit")
		if r.body != "0123456789" {
			t.Fatalf("GET after HEAD: %q", r.body)
		}
	})
}

func TestVaryKeepsOneResponsePerVariant(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "Accept-Encoding")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			_, _ = io.WriteString(w, "gz")
			return
		}
		_, _ = io.WriteString(w, "plain")
	})
	f := newFront(t, testConfig(newClock()), proxyTo(o))
	steps := []struct {
		header string
		body   string
		status string
	}{
		{"Accept-Encoding: gzip", "gz", "fwd=uri-miss"},
		{"Accept-Encoding: identity", "plain", "fwd=vary-miss"},
		{"Accept-Encoding: gzip", "gz", "hit"},
		{"Accept-Encoding: identity", "plain", "hit"},
	}
	for i, s := range steps {
		r := f.get(t, "/static/app.js", s.header)
		if r.body != s.body {
			t.Fatalf("step %d: body %q; want %q", i, r.body, s.body)
		}
		wantStatus(t, r, s.status)
	}
	if o.requests.Load() != 2 {
		t.Fatalf("upstream got %d requests; want 2", o.requests.Load())
	}

	t.Run("Vary star is never stored", func(t *testing.T) {
		o := newOrigin(t, static("x", "Cache-Control: max-age=60", "Vary: *"))
		f := newFront(t, testConfig(newClock()), proxyTo(o))
		wantStatus(t, f.get(t, "/a"), "detail=vary-star")
		f.get(t, "/a")
		if o.requests.Load() != 2 || f.c.Stats().Entries != 0 {
			t.Fatalf("%d upstream requests, %+v", o.requests.Load(), f.c.Stats())
		}
	})
}

// Every path through the cache labels its response.
func TestCacheStatusIsOnEveryResponse(t *testing.T) {
	k := newClock()
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/no-store":
			w.Header().Set("Cache-Control", "no-store")
		case "/error":
			w.WriteHeader(http.StatusInternalServerError)
			return
		default:
			w.Header().Set("Cache-Control", "max-age=10")
		}
		_, _ = io.WriteString(w, "x")
	})
	cfg := testConfig(k)
	cfg.MinUses = 2
	cfg.UseStale = StaleHTTP500 | StaleError
	f := newFront(t, cfg, proxyTo(o))
	steps := []struct {
		name, method, path, header string
		want                       string
	}{
		{"min-uses miss", "GET", "/a", "", "fwd=uri-miss; fwd-status=200; detail=min-uses"},
		{"miss stored", "GET", "/a", "", "fwd=uri-miss; fwd-status=200; ttl=10; stored"},
		{"hit", "GET", "/a", "", "hit; ttl=10"},
		{"HEAD hit", "HEAD", "/a", "", "hit; ttl=10"},
		{"method", "POST", "/b", "", "fwd=method"},
		{"upgrade", "GET", "/ws", "Upgrade: websocket", "fwd=bypass; detail=upgrade"},
		{"no-store below min_uses", "GET", "/no-store", "", "fwd=uri-miss; fwd-status=200; detail=min-uses"},
		{"no-store again", "GET", "/no-store", "", "fwd=uri-miss; fwd-status=200; detail=no-store"},
		{"hit-for-pass", "GET", "/no-store", "", "fwd=bypass; fwd-status=200; detail=hit-for-pass"},
		{"request no-cache", "GET", "/a", "Cache-Control: no-cache", "fwd=request; fwd-status=200; ttl=10; stored"},
		{"only-if-cached", "GET", "/none", "Cache-Control: only-if-cached", "fwd=uri-miss; detail=only-if-cached"},
		{"upstream error below min_uses", "GET", "/error", "", "fwd=uri-miss; fwd-status=500; detail=min-uses"},
		{"upstream error", "GET", "/error", "", "fwd=uri-miss; fwd-status=500; detail=status"},
	}
	for _, s := range steps {
		var header []string
		if s.header != "" {
			header = append(header, s.header)
		}
		r := f.do(t, s.method, s.path, header...)
		if got := r.cacheStatus(); got != "chorus; "+s.want {
			t.Errorf("%s: Cache-Status %q; want %q", s.name, got, "chorus; "+s.want)
		}
	}
	k.Advance(11 * time.Second)
	o.Close()
	r := f.get(t, "/a")
	if got, want := r.cacheStatus(), "chorus; fwd=stale; ttl=-1; detail=stale-error"; got != want {
		t.Errorf("stale: Cache-Status %q; want %q", got, want)
	}
	if r.status != http.StatusOK {
		t.Errorf("stale: status %d", r.status)
	}
}

func TestPurgeByKeyAndPrefix(t *testing.T) {
	o := newOrigin(t, static("x", "Cache-Control: max-age=60"))
	f := newFront(t, testConfig(newClock()), proxyTo(o))
	for _, p := range []string{"/static/a.js", "/static/b.js", "/img/c.png"} {
		f.get(t, p)
	}
	if !f.c.Purge(f.URL + "/static/a.js") {
		t.Fatal("Purge of a stored key reported nothing")
	}
	if f.c.Purge(f.URL + "/static/a.js") {
		t.Fatal("second Purge reported a key")
	}
	if n := f.c.PurgePrefix(f.URL + "/static/"); n != 1 {
		t.Fatalf("PurgePrefix removed %d keys; want 1", n)
	}
	wantStatus(t, f.get(t, "/static/b.js"), "fwd=uri-miss")
	wantStatus(t, f.get(t, "/img/c.png"), "hit")
	if s := f.c.Stats(); s.Purged != 2 {
		t.Fatalf("stats %+v; want 2 purged", s)
	}
}

func TestNewRejectsBadSettings(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"name", func(c *Config) { c.Name = "two words" }, "Name"},
		{"max size", func(c *Config) { c.MaxSize = 0 }, "MaxSize"},
		{"entry above max", func(c *Config) { c.MaxEntrySize = c.MaxSize + 1 }, "MaxEntrySize"},
		{"inactive", func(c *Config) { c.Inactive = 0 }, "Inactive"},
		{"min uses", func(c *Config) { c.MinUses = 0 }, "MinUses"},
		{"lock timeout", func(c *Config) { c.LockTimeout = 0 }, "LockTimeout"},
		{"pass ttl", func(c *Config) { c.PassTTL = -time.Second }, "PassTTL"},
		{"fill timeout", func(c *Config) { c.FillTimeout = 0 }, "FillTimeout"},
		{"valid status", func(c *Config) { c.Valid = map[int]time.Duration{99: time.Second} }, "Valid"},
		{"valid duration", func(c *Config) { c.Valid = map[int]time.Duration{200: 0} }, "Valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.change(&cfg)
			_, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v; want an error naming %s", err, tt.want)
			}
		})
	}
}

func TestKey(t *testing.T) {
	tests := []struct {
		url  string
		want string
	}{
		{"http://chat.example.com/static/main.js", "http://chat.example.com/static/main.js"},
		{"http://chat.example.com/static/main.js?v=2", "http://chat.example.com/static/main.js?v=2"},
		{"http://chat.example.com/a%20b", "http://chat.example.com/a%20b"},
	}
	for _, tt := range tests {
		r, err := http.NewRequest(http.MethodHead, tt.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := Key(r); got != tt.want {
			t.Errorf("Key(%s) = %q; want %q", tt.url, got, tt.want)
		}
	}
}

func TestParseUseStale(t *testing.T) {
	s, err := ParseUseStale("timeout", "http_503", "updating")
	if err != nil || s != StaleTimeout|StaleHTTP503|StaleUpdating || s.String() != "http_503 timeout updating" {
		t.Fatalf("ParseUseStale = %v (%s), %v", s, s, err)
	}
	if s, err := ParseUseStale("off"); err != nil || s != 0 {
		t.Fatalf("off: %v %v", s, err)
	}
	for _, bad := range [][]string{{"sometimes"}, {"off", "error"}} {
		if _, err := ParseUseStale(bad...); err == nil {
			t.Errorf("ParseUseStale(%q) accepted", bad)
		}
	}
}
