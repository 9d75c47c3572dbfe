package caddymodule

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"

	"github.com/seed331fb32b/chorus/cache"
)

// cacheAdapt runs the Caddyfile adapter on src.
func cacheAdapt(src string) ([]byte, error) {
	out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(src), map[string]any{"filename": "Caddyfile"})
	return out, err
}

func TestCacheDirectiveErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		name     string
		block    string // the lines after ":8080 {", the directive on line 2
		wantLine string
		wantText string
	}{
		{"argument", "chorus_cache /static/* yes\n}", "Caddyfile:2", "wrong argument count"},
		{"unknown option", "chorus_cache {\n\tkeys_zone 10m\n}\n}", "Caddyfile:3", `unrecognized chorus_cache option "keys_zone"`},
		{"bad size", "chorus_cache {\n\tmax_size lots\n}\n}", "Caddyfile:3", "max_size"},
		{"bad duration", "chorus_cache {\n\tinactive soon\n}\n}", "Caddyfile:3", `inactive "soon"`},
		{"zero min_uses", "chorus_cache {\n\tmin_uses 0\n}\n}", "Caddyfile:3", "at least 1"},
		{"bad on/off", "chorus_cache {\n\tlock yes\n}\n}", "Caddyfile:3", "want on or off"},
		{"bad use_stale", "chorus_cache {\n\tuse_stale sometimes\n}\n}", "Caddyfile:3", "unknown use_stale condition"},
		{"bad valid status", "chorus_cache {\n\tvalid 2000 1m\n}\n}", "Caddyfile:3", "not a status code"},
		{"bad valid duration", "chorus_cache {\n\tvalid 200 forever\n}\n}", "Caddyfile:3", "not a positive duration"},
		{"option twice", "chorus_cache {\n\tlock on\n\tlock off\n}\n}", "Caddyfile:4", "given twice"},
		{"entry above max", "chorus_cache {\n\tmax_size 1MB\n\tmax_entry_size 2MB\n}\n}", "Caddyfile:", "MaxEntrySize"},
		{"bad name", "chorus_cache {\n\tname 9lives\n}\n}", "Caddyfile:", "Name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cacheAdapt(":8080 {\n" + tt.block + "\n")
			if err == nil {
				t.Fatal("adapt succeeded; want an error")
			}
			if !strings.Contains(err.Error(), tt.wantLine) || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q: want it to name %s and say %q", err, tt.wantLine, tt.wantText)
			}
		})
	}
}

func TestCacheSettingsMapOntoTheDefaults(t *testing.T) {
	off, on := false, true
	zero := caddy.Duration(0)
	h := Cache{
		Name: "static", MaxSize: 1 << 20, Inactive: caddy.Duration(time.Hour), MinUses: 1,
		Revalidate: &off, UseStale: []string{"error", "http_503"}, Lock: &on,
		HitForPass: &zero, Valid: map[string]caddy.Duration{"200": caddy.Duration(time.Minute), "any": caddy.Duration(time.Second)},
	}
	cfg, err := h.config()
	if err != nil {
		t.Fatal(err)
	}
	def := cache.DefaultConfig()
	switch {
	case cfg.Name != "static", cfg.MaxSize != 1<<20, cfg.MaxEntrySize != 1<<20, cfg.Inactive != time.Hour,
		cfg.MinUses != 1, cfg.Revalidate, cfg.UseStale != cache.StaleError|cache.StaleHTTP503, !cfg.Lock,
		cfg.PassTTL != 0, cfg.LockTimeout != def.LockTimeout, cfg.FillTimeout != def.FillTimeout,
		cfg.Valid[200] != time.Minute, cfg.Valid[0] != time.Second:
		t.Fatalf("config %+v", cfg)
	}
	empty, err := (&Cache{}).config()
	if err != nil {
		t.Fatal(err)
	}
	if empty.Name != def.Name || empty.MinUses != def.MinUses || !empty.Lock || !empty.Revalidate || empty.UseStale != def.UseStale {
		t.Fatalf("empty handler: %+v; want the defaults %+v", empty, def)
	}
}

func TestStaticCacheHandlerJSON(t *testing.T) {
	if got := string(staticCacheHandler(nil)); got != `{"handler":"chorus_cache"}` {
		t.Errorf("staticCacheHandler(nil) = %s", got)
	}
	got := string(staticCacheHandler(&Cache{MaxSize: 1 << 30, MinUses: 1}))
	if got != `{"handler":"chorus_cache","max_size":1073741824,"min_uses":1}` {
		t.Errorf("staticCacheHandler(opts) = %s", got)
	}
	if len(staticCachePaths) != 1 || staticCachePaths[0] != "/static/*" {
		t.Errorf("staticCachePaths = %q", staticCachePaths)
	}
}

// cacheOrigin is the upstream behind Caddy in TestCacheInCaddy.
type cacheOrigin struct {
	srv      *httptest.Server
	requests sync.Map      // path → *atomic.Int64
	slow     chan struct{} // /static/slow.js waits for it
	stuck    chan struct{} // /static/stale.js, once hang is set, waits for it (till the test ends)
	once     sync.Once
	hang     atomic.Bool
}

func (o *cacheOrigin) count(path string) int64 {
	v, _ := o.requests.LoadOrStore(path, new(atomic.Int64))
	return v.(*atomic.Int64).Load()
}

func (o *cacheOrigin) open() { o.once.Do(func() { close(o.slow) }) }

func newCacheOrigin(t *testing.T) *cacheOrigin {
	o := &cacheOrigin{slow: make(chan struct{}), stuck: make(chan struct{})}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, _ := o.requests.LoadOrStore(r.URL.Path, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
		switch r.URL.Path {
		case "/static/slow.js":
			<-o.slow
			w.Header().Set("Cache-Control", "max-age=60")
		case "/static/stale.js":
			if o.hang.Load() {
				<-o.stuck
				return
			}
			w.Header().Set("Cache-Control", "max-age=0")
			w.Header().Set("Etag", `"s1"`)
		case "/api/v4/users/me":
			w.Header().Set("Cache-Control", "no-store")
		default:
			w.Header().Set("Cache-Control", "max-age=60")
		}
		_, _ = io.WriteString(w, "body of "+r.URL.Path)
	}))
	t.Cleanup(o.srv.Close)
	t.Cleanup(func() { o.open(); close(o.stuck) }) // runs first: no handler stays blocked
	return o
}

// cacheFreeAddr returns a loopback address free right now.
func cacheFreeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestCacheInCaddy runs chorus_cache in front of reverse_proxy in this
// process's Caddy: hits, HEAD, the lock through reverse_proxy, stale on
// timeout, the purge endpoint, metrics, and a reload.
func TestCacheInCaddy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Caddy")
	}
	o := newCacheOrigin(t)
	front, admin := cacheFreeAddr(t), cacheFreeAddr(t)
	src := func(minUses int) string {
		return fmt.Sprintf(`{
	admin %s
	persist_config off
	log {
		level ERROR
	}
}
http://%s {
	chorus_cache /static/* {
		min_uses %d
		fill_timeout 300ms
		use_stale timeout
	}
	reverse_proxy %s
}
`, admin, front, minUses, o.srv.Listener.Addr())
	}
	load := func(minUses int) {
		t.Helper()
		cfg, err := cacheAdapt(src(minUses))
		if err != nil {
			t.Fatal(err)
		}
		if err := caddy.Load(cfg, true); err != nil {
			t.Fatal(err)
		}
	}
	load(1)
	t.Cleanup(func() { _ = caddy.Stop() })
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 50}}
	t.Cleanup(client.CloseIdleConnections)
	fetch := func(method, path string) (int, http.Header, string, error) {
		req, err := http.NewRequest(method, "http://"+front+path, nil)
		if err != nil {
			return 0, nil, "", err
		}
		res, err := client.Do(req)
		if err != nil {
			return 0, nil, "", err
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, string(body), err
	}
	step := func(method, path, wantStatus string) string {
		t.Helper()
		code, h, body, err := fetch(method, path)
		if err != nil {
			t.Fatal(err)
		}
		if got := h.Get("Cache-Status"); !strings.Contains(got, wantStatus) || (wantStatus == "" && got != "") {
			t.Fatalf("%s %s: %d, Cache-Status %q; want %q", method, path, code, got, wantStatus)
		}
		return body
	}
	stats := func() cache.Stats {
		insts := cachesNamed("chorus")
		if len(insts) != 1 {
			t.Fatalf("%d caches named chorus", len(insts))
		}
		return insts[0].cache.Stats()
	}

	t.Run("hit and HEAD", func(t *testing.T) {
		if body := step("GET", "/static/app.js", "chorus; fwd=uri-miss; fwd-status=200; ttl=60; stored"); body != "body of /static/app.js" {
			t.Fatalf("body %q", body)
		}
		step("GET", "/static/app.js", "chorus; hit; ttl=")
		step("HEAD", "/static/app.js", "chorus; hit; ttl=")
		step("GET", "/api/v4/users/me", "") // outside the matcher: untouched
		if n := o.count("/static/app.js"); n != 1 {
			t.Fatalf("origin got %d requests for app.js", n)
		}
	})

	t.Run("lock through reverse_proxy", func(t *testing.T) {
		const n = 20
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				code, _, body, err := fetch("GET", "/static/slow.js")
				if err == nil && (code != 200 || body != "body of /static/slow.js") {
					err = fmt.Errorf("got %d %q", code, body)
				}
				errs <- err
			})
		}
		deadline := time.Now().Add(10 * time.Second)
		for stats().Waiting < n {
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %d requests on the lock: %+v", n, stats())
			}
			time.Sleep(time.Millisecond) // polling a condition
		}
		o.open()
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := o.count("/static/slow.js"); got != 1 {
			t.Fatalf("origin got %d requests for slow.js; want 1", got)
		}
	})

	t.Run("stale on timeout", func(t *testing.T) {
		step("GET", "/static/stale.js", "stored")
		o.hang.Store(true)
		// The entry expired a moment ago: its ttl is 0 or, once a second
		// boundary has passed, negative (RFC 9211 §2.3).
		_, h, body, err := fetch("GET", "/static/stale.js")
		if err != nil {
			t.Fatal(err)
		}
		cs := h.Get("Cache-Status")
		if !regexp.MustCompile(`^chorus; fwd=stale; ttl=(0|-[0-9]+); detail=stale-timeout$`).MatchString(cs) {
			t.Fatalf("Cache-Status %q; want a stale hit with ttl ≤ 0 and detail=stale-timeout", cs)
		}
		if body != "body of /static/stale.js" {
			t.Fatalf("stale body %q", body)
		}
	})

	t.Run("purge", func(t *testing.T) {
		purge := func(body string) (int, string) {
			res, err := client.Post("http://"+admin+"/chorus/cache/purge", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, strings.TrimSpace(string(b))
		}
		if code, body := purge(fmt.Sprintf(`{"key":"http://%s/static/app.js"}`, front)); code != 200 || body != `{"purged":1}` {
			t.Fatalf("purge key: %d %s", code, body)
		}
		step("GET", "/static/app.js", "fwd=uri-miss")
		if code, body := purge(fmt.Sprintf(`{"prefix":"http://%s/static/","cache":"chorus"}`, front)); code != 200 || !strings.HasPrefix(body, `{"purged":`) || body == `{"purged":0}` {
			t.Fatalf("purge prefix: %d %s", code, body)
		}
		if code, _ := purge(`{"key":"a","prefix":"b"}`); code != http.StatusBadRequest {
			t.Fatalf("purge with key and prefix: %d; want 400", code)
		}
		if code, _ := purge(`{"key":"a","cache":"nope"}`); code != http.StatusNotFound {
			t.Fatalf("purge of an unknown cache: %d; want 404", code)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		res, err := client.Get("http://" + admin + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		for _, want := range []string{
			`chorus_cache_requests_total{cache="chorus",result="hit"}`,
			`chorus_cache_requests_total{cache="chorus",result="stale"} 1`,
			`chorus_cache_evictions_total{cache="chorus",reason="purge"}`,
			`chorus_cache_bytes{cache="chorus"}`,
			`chorus_cache_max_bytes{cache="chorus"} 2.68435456e+08`,
		} {
			if !bytes.Contains(b, []byte(want)) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})

	t.Run("reload keeps the cache", func(t *testing.T) {
		step("GET", "/static/kept.js", "stored")
		load(1)
		step("GET", "/static/kept.js", "hit")
		load(2) // other settings: another cache
		step("GET", "/static/kept.js", "detail=min-uses")
	})
}

func TestPurgeRejectsBadRequests(t *testing.T) {
	tests := []struct {
		name, body string
		want       int
	}{
		{"not JSON", "{", http.StatusBadRequest},
		{"neither key nor prefix", "{}", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/chorus/cache/purge", strings.NewReader(tt.body))
			err := servePurge(httptest.NewRecorder(), r)
			var apiErr caddy.APIError
			if !errors.As(err, &apiErr) || apiErr.HTTPStatus != tt.want {
				t.Fatalf("servePurge: %v; want an API error with status %d", err, tt.want)
			}
		})
	}
}
