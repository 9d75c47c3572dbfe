package cache

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestOnlyStorableResponsesAreStored(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header []string
		valid  map[int]time.Duration
		stored bool
		detail string // when not stored
	}{
		{"max-age", 200, []string{"Cache-Control: max-age=60"}, nil, true, ""},
		{"Expires", 200, []string{"Expires: " + httpDate(time.Now().Add(time.Hour))}, nil, true, ""},
		{"no-store", 200, []string{"Cache-Control: no-store, max-age=60"}, nil, false, "no-store"},
		{"private", 200, []string{"Cache-Control: private, max-age=60"}, nil, false, "private"},
		{"qualified private counts as private", 200, []string{`Cache-Control: private="X-User", max-age=60`}, nil, false, "private"},
		{"Set-Cookie", 200, []string{"Cache-Control: public, max-age=60", "Set-Cookie: MMAUTHTOKEN=x"}, nil, false, "set-cookie"},
		{"Vary star", 200, []string{"Cache-Control: max-age=60", "Vary: Accept, *"}, nil, false, "vary-star"},
		{"no freshness", 200, nil, nil, false, "no-freshness"},
		{"valid gives freshness", 200, nil, map[int]time.Duration{200: time.Minute}, true, ""},
		{"valid any", 404, nil, map[int]time.Duration{0: time.Minute}, true, ""},
		{"valid for another status", 404, nil, map[int]time.Duration{200: time.Minute}, false, "no-freshness"},
		{"partial content", 206, []string{"Cache-Control: max-age=60"}, nil, false, "status"},
		{"server error", 500, []string{"Cache-Control: max-age=60"}, nil, false, "status"},
		{"unknown status", 418, []string{"Cache-Control: max-age=60"}, nil, false, "status"},
		{"404 with max-age", 404, []string{"Cache-Control: max-age=60"}, nil, true, ""},
		{"expired with validator is stored to revalidate", 200, []string{"Cache-Control: max-age=0", `Etag: "1"`}, nil, true, ""},
		{"expired without validator", 200, []string{"Cache-Control: max-age=0"}, nil, false, "no-freshness"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				for _, h := range tt.header {
					k, v, _ := strings.Cut(h, ":")
					w.Header().Add(k, strings.TrimSpace(v))
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, "body")
			})
			cfg := testConfig(newClock())
			cfg.Valid = tt.valid
			f := newFront(t, cfg, proxyTo(o))
			r := f.get(t, "/r")
			if r.status != tt.status || r.body != "body" {
				t.Fatalf("got %d %q", r.status, r.body)
			}
			if got := f.c.Stats().Entries == 1; got != tt.stored {
				t.Fatalf("stored %v (Cache-Status %q); want %v", got, r.cacheStatus(), tt.stored)
			}
			if tt.stored {
				wantStatus(t, r, "stored")
			} else {
				wantStatus(t, r, "detail="+tt.detail)
			}
		})
	}
}

func TestFreshnessComesFromSMaxageThenMaxAgeThenExpires(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"s-maxage wins", http.Header{"Cache-Control": {"max-age=10, s-maxage=30"}, "Expires": {httpDate(now.Add(time.Hour))}}, 30 * time.Second},
		{"max-age before Expires", http.Header{"Cache-Control": {"max-age=10"}, "Expires": {httpDate(now.Add(time.Hour))}}, 10 * time.Second},
		{"Expires minus Date", http.Header{"Date": {httpDate(now)}, "Expires": {httpDate(now.Add(time.Hour))}}, time.Hour},
		{"directives on two lines", http.Header{"Cache-Control": {"public", "max-age=20"}}, 20 * time.Second},
		{"quoted comma", http.Header{"Cache-Control": {`no-cache="Set-Cookie, X", max-age=20`}, "Etag": {`"e"`}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := c.judge(200, tt.header, false, now)
			if v.reason != "" || v.lifetime != tt.want {
				t.Fatalf("judge: reason %q lifetime %v; want stored for %v", v.reason, v.lifetime, tt.want)
			}
		})
	}
}

func TestAuthorizationRules(t *testing.T) {
	tests := []struct {
		name         string
		cc           string
		storedByAuth bool
	}{
		{"plain max-age is not shared", "max-age=60", false},
		{"public is", "public, max-age=60", true},
		{"s-maxage is", "s-maxage=60", true},
		{"must-revalidate is", "must-revalidate, max-age=60", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrigin(t, static("avatar", "Cache-Control: "+tt.cc))
			f := newFront(t, testConfig(newClock()), proxyTo(o))
			r := f.get(t, "/api/v4/users/x/image", "Authorization: Bearer abc")
			if got := strings.Contains(r.cacheStatus(), "stored"); got != tt.storedByAuth {
				t.Fatalf("Cache-Status %q: stored %v, want %v", r.cacheStatus(), got, tt.storedByAuth)
			}
			r = f.get(t, "/api/v4/users/x/image", "Authorization: Bearer other")
			if hit := strings.Contains(r.cacheStatus(), "hit"); hit != tt.storedByAuth {
				t.Fatalf("second request with Authorization: Cache-Status %q", r.cacheStatus())
			}
			if !tt.storedByAuth {
				wantStatus(t, r, "detail=authorization")
			}
		})
	}

	t.Run("entry stored for everyone is not served to a request with credentials", func(t *testing.T) {
		o := newOrigin(t, static("avatar", "Cache-Control: max-age=60"))
		f := newFront(t, testConfig(newClock()), proxyTo(o))
		wantStatus(t, f.get(t, "/img"), "stored")
		wantStatus(t, f.get(t, "/img"), "hit")
		r := f.get(t, "/img", "Authorization: Bearer abc")
		wantStatus(t, r, "fwd=uri-miss", "detail=authorization")
		if o.requests.Load() != 2 {
			t.Fatalf("upstream got %d requests; want 2", o.requests.Load())
		}
	})
}

func TestSetCookieResponsesAreNeverStored(t *testing.T) {
	o := newOrigin(t, static("page", "Cache-Control: public, max-age=60", "Set-Cookie: MMCSRF=1"))
	f := newFront(t, testConfig(newClock()), proxyTo(o))
	wantStatus(t, f.get(t, "/login"), "detail=set-cookie")
	r := f.get(t, "/login")
	wantStatus(t, r, "fwd=bypass", "detail=hit-for-pass")
	if r.header.Get("Set-Cookie") != "MMCSRF=1" || o.requests.Load() != 2 || f.c.Stats().Entries != 0 {
		t.Fatalf("Set-Cookie %q, %d upstream requests, %+v", r.header.Get("Set-Cookie"), o.requests.Load(), f.c.Stats())
	}
}

func TestRevalidationRenewsTheEntryOn304(t *testing.T) {
	tests := []struct {
		name      string
		validator string // response field
		condition string // request field the upstream must get
	}{
		{"ETag", `Etag: "v1"`, "If-None-Match"},
		{"Last-Modified", "Last-Modified: Mon, 02 Jan 2006 15:04:05 GMT", "If-Modified-Since"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newClock()
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				name, value, _ := strings.Cut(tt.validator, ":")
				w.Header().Set(name, strings.TrimSpace(value))
				w.Header().Set("Date", httpDate(k.Now()))
				w.Header().Set("Cache-Control", "max-age=10")
				if r.Header.Get(tt.condition) != "" {
					w.WriteHeader(http.StatusNotModified)
					return
				}
				_, _ = io.WriteString(w, "bundle")
			})
			f := newFront(t, testConfig(k), proxyTo(o))
			wantStatus(t, f.get(t, "/static/main.js"), "stored")
			k.Advance(11 * time.Second)

			r := f.get(t, "/static/main.js")
			if r.status != 200 || r.body != "bundle" {
				t.Fatalf("got %d %q; want the stored body", r.status, r.body)
			}
			wantStatus(t, r, "fwd=stale", "fwd-status=304", "stored")
			if o.last().Header.Get(tt.condition) == "" {
				t.Fatalf("upstream request lacks %s", tt.condition)
			}
			wantStatus(t, f.get(t, "/static/main.js"), "hit", "ttl=10")
			if o.requests.Load() != 2 {
				t.Fatalf("upstream got %d requests; want 2", o.requests.Load())
			}
		})
	}

	t.Run("revalidate off fetches the whole response", func(t *testing.T) {
		k := newClock()
		o := newOrigin(t, static("bundle", "Cache-Control: max-age=10", `Etag: "v1"`))
		cfg := testConfig(k)
		cfg.Revalidate = false
		f := newFront(t, cfg, proxyTo(o))
		f.get(t, "/static/main.js")
		k.Advance(11 * time.Second)
		wantStatus(t, f.get(t, "/static/main.js"), "fwd=stale", "fwd-status=200", "stored")
		if o.last().Header.Get("If-None-Match") != "" {
			t.Fatal("revalidate off sent If-None-Match")
		}
	})
}

func TestNoCacheResponseIsStoredAndRevalidatedBeforeEachUse(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Etag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = io.WriteString(w, "config")
	})
	f := newFront(t, testConfig(newClock()), proxyTo(o))
	wantStatus(t, f.get(t, "/config"), "stored")
	for i := 0; i < 3; i++ {
		r := f.get(t, "/config")
		if r.body != "config" {
			t.Fatalf("got %q", r.body)
		}
		wantStatus(t, r, "fwd=stale", "fwd-status=304")
	}
	if o.requests.Load() != 4 {
		t.Fatalf("upstream got %d requests; want one per use", o.requests.Load())
	}
}

func TestRequestDirectivesAreHonoured(t *testing.T) {
	tests := []struct {
		name     string
		request  string
		upstream bool   // the request goes upstream
		status   string // a Cache-Status part
	}{
		{"no-cache", "Cache-Control: no-cache", true, "fwd=request"},
		{"max-age=0", "Cache-Control: max-age=0", true, "fwd=request"},
		{"max-age above the age", "Cache-Control: max-age=100", false, "hit"},
		{"max-age below the age", "Cache-Control: max-age=5", true, "fwd=request"},
		{"min-fresh beyond the lifetime", "Cache-Control: min-fresh=60", true, "fwd=request"},
		{"no-store is not stored", "Cache-Control: no-store", false, "hit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newClock()
			o := newOrigin(t, static("v", "Cache-Control: max-age=60", `Etag: "1"`))
			f := newFront(t, testConfig(k), proxyTo(o))
			f.get(t, "/a")
			k.Advance(7 * time.Second)
			r := f.get(t, "/a", tt.request)
			wantStatus(t, r, tt.status)
			if went := o.requests.Load() == 2; went != tt.upstream {
				t.Fatalf("went upstream %v (%s); want %v", went, r.cacheStatus(), tt.upstream)
			}
		})
	}

	t.Run("no-store request on a miss", func(t *testing.T) {
		o := newOrigin(t, static("v", "Cache-Control: max-age=60"))
		f := newFront(t, testConfig(newClock()), proxyTo(o))
		wantStatus(t, f.get(t, "/a", "Cache-Control: no-store"), "fwd=bypass", "detail=request-no-store")
		if f.c.Stats().Entries != 0 {
			t.Fatal("stored the response to a no-store request")
		}
	})

	t.Run("no-store request with credentials", func(t *testing.T) {
		o := newOrigin(t, static("v", "Cache-Control: public, max-age=60"))
		f := newFront(t, testConfig(newClock()), proxyTo(o))
		f.get(t, "/a", "Cache-Control: no-store", "Authorization: Bearer abc")
		if f.c.Stats().Entries != 0 {
			t.Fatal("stored the response to a no-store request")
		}
	})

	t.Run("only-if-cached", func(t *testing.T) {
		o := newOrigin(t, static("v", "Cache-Control: max-age=60"))
		f := newFront(t, testConfig(newClock()), proxyTo(o))
		r := f.get(t, "/a", "Cache-Control: only-if-cached")
		if r.status != http.StatusGatewayTimeout || o.requests.Load() != 0 {
			t.Fatalf("status %d after %d upstream requests; want 504 without any", r.status, o.requests.Load())
		}
		wantStatus(t, r, "detail=only-if-cached")
		f.get(t, "/a")
		wantStatus(t, f.get(t, "/a", "Cache-Control: only-if-cached"), "hit")
	})
}

func TestAgeIsOnEveryHit(t *testing.T) {
	tests := []struct {
		name     string
		upstream string // the upstream's Age
		wait     time.Duration
		want     string
	}{
		{"resident time", "", 7 * time.Second, "7"},
		{"upstream age adds", "5", 0, "5"},
		{"both", "5", 3 * time.Second, "8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newClock()
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Date", httpDate(k.Now()))
				w.Header().Set("Cache-Control", "max-age=60")
				if tt.upstream != "" {
					w.Header().Set("Age", tt.upstream)
				}
				_, _ = io.WriteString(w, "x")
			})
			f := newFront(t, testConfig(k), proxyTo(o))
			f.get(t, "/a")
			k.Advance(tt.wait)
			r := f.get(t, "/a")
			wantStatus(t, r, "hit")
			if got := r.header.Get("Age"); got != tt.want {
				t.Fatalf("Age %q; want %q", got, tt.want)
			}
		})
	}
}

func TestConditionalRequestIsAnsweredFromTheCache(t *testing.T) {
	o := newOrigin(t, static("bundle", "Cache-Control: max-age=60", `Etag: "v1"`, "Last-Modified: Mon, 02 Jan 2006 15:04:05 GMT"))
	f := newFront(t, testConfig(newClock()), proxyTo(o))
	f.get(t, "/static/main.js")
	tests := []struct {
		name   string
		header string
		want   int
	}{
		{"matching etag", `If-None-Match: W/"v1"`, 304},
		{"other etag", `If-None-Match: "v0"`, 200},
		{"not modified since", "If-Modified-Since: Tue, 03 Jan 2006 15:04:05 GMT", 304},
		{"modified since", "If-Modified-Since: Sun, 01 Jan 2006 15:04:05 GMT", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.get(t, "/static/main.js", tt.header)
			if r.status != tt.want {
				t.Fatalf("status %d; want %d", r.status, tt.want)
			}
			wantStatus(t, r, "hit")
		})
	}
	if o.requests.Load() != 1 {
		t.Fatalf("upstream got %d requests; want 1", o.requests.Load())
	}
}

func TestUnsafeMethodInvalidatesTheURI(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.Header().Set("Location", "/posts/2")
			w.WriteHeader(http.StatusCreated)
			return
		}
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = io.WriteString(w, "list")
	})
	f := newFront(t, testConfig(newClock()), proxyTo(o))
	f.get(t, "/posts")
	f.get(t, "/posts/2")
	r := f.do(t, http.MethodPost, "/posts")
	wantStatus(t, r, "fwd=method")
	wantStatus(t, f.get(t, "/posts"), "fwd=uri-miss", "stored")
	wantStatus(t, f.get(t, "/posts/2"), "fwd=uri-miss", "stored")
}
