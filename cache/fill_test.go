package cache

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestLockSendsOneUpstreamRequestFor100ConcurrentMisses(t *testing.T) {
	release, open := gate(t)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = io.WriteString(w, "console.log('app')")
	})
	f := newFront(t, testConfig(newClock()), proxyTo(o))

	done := make(chan []reply)
	go func() { done <- f.burst(t, 100, "/static/app.js") }()
	waitFor(t, "100 requests on the lock", func() bool { return f.c.Stats().Waiting == 100 },
		func() string { return fmt.Sprintf("%+v, upstream requests %d", f.c.Stats(), o.requests.Load()) })
	open()
	replies := <-done

	if n := o.requests.Load(); n != 1 {
		t.Fatalf("upstream got %d requests; want exactly 1", n)
	}
	stored, collapsed := 0, 0
	for _, r := range replies {
		if r.status != http.StatusOK || r.body != "console.log('app')" {
			t.Fatalf("reply %d %q; want 200 with the body", r.status, r.body)
		}
		wantStatus(t, r, "fwd=uri-miss", "fwd-status=200")
		if strings.Contains(r.cacheStatus(), "; stored") {
			stored++
		}
		if strings.Contains(r.cacheStatus(), "; collapsed") {
			collapsed++
		}
	}
	if stored != 1 || collapsed != 99 {
		t.Errorf("%d stored and %d collapsed; want 1 and 99", stored, collapsed)
	}
	if s := f.c.Stats(); s.Hits != 99 || s.Misses != 1 || s.Waiting != 0 {
		t.Errorf("stats %+v; want 99 hits, 1 miss, nobody waiting", s)
	}
}

// The trap of the seed's NGINX config: with the lock on, requests for an
// uncacheable URI queue behind each other. Here an upstream that answers
// only once it holds all 100 requests at the same time proves that none
// waits on another.
func TestHitForPassSends100ConcurrentRequestsAtOnce(t *testing.T) {
	const n = 100
	var arrived atomic.Int64
	all, allHere := gate(t)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if r.Header.Get("X-Phase") == "burst" {
			if arrived.Add(1) == n {
				allHere()
			}
			select {
			case <-all:
			case <-time.After(5 * time.Second):
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = io.WriteString(w, `{"id":"me"}`)
	})
	cfg := testConfig(newClock())
	cfg.LockTimeout = time.Minute // a request waiting on the lock would outwait the barrier
	f := newFront(t, cfg, proxyTo(o))

	first := f.get(t, "/api/v4/users/me")
	wantStatus(t, first, "fwd=uri-miss", "fwd-status=200", "detail=no-store")

	for _, r := range f.burst(t, n, "/api/v4/users/me", "X-Phase: burst") {
		if r.status != http.StatusOK {
			t.Fatalf("status %d (%s); want 200: the upstream never held all %d requests at once (arrived %d)", r.status, r.cacheStatus(), n, arrived.Load())
		}
		wantStatus(t, r, "fwd=bypass", "detail=hit-for-pass")
	}
	if got := o.requests.Load(); got != n+1 {
		t.Errorf("upstream got %d requests; want %d", got, n+1)
	}
}

// Before anything is known of a key, requests do wait on the first one,
// but only until its status line says the response will not be stored.
func TestWaitersAreReleasedWhenTheStatusLineSaysNoStore(t *testing.T) {
	const n = 10
	var fr atomic.Pointer[front] // set once the front exists, before any request
	bodyMay, bodyGo := gate(t)
	var later atomic.Int64
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if r.Header.Get("X-First") == "" {
			if later.Add(1) == n-1 {
				bodyGo()
			}
			_, _ = io.WriteString(w, "later")
			return
		}
		// The first request: wait until the others are on the lock, send
		// the status line, and hold the body until they all came here.
		deadline := time.Now().Add(5 * time.Second)
		for fr.Load().c.Stats().Waiting < n && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond) // polling a condition
		}
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		select {
		case <-bodyMay:
		case <-time.After(5 * time.Second):
		}
		_, _ = io.WriteString(w, "first")
	})
	f := newFront(t, testConfig(newClock()), proxyTo(o))
	fr.Store(f)

	firstDone := make(chan reply, 1)
	go func() {
		r, err := f.fetch(http.MethodGet, "/api/v4/users/me", "X-First: yes")
		if err != nil {
			t.Error(err)
		}
		firstDone <- r
	}()
	waitFor(t, "the first request upstream", func() bool { return o.requests.Load() == 1 }, func() string { return "" })
	for _, r := range f.burst(t, n-1, "/api/v4/users/me") {
		if r.body != "later" {
			t.Fatalf("a waiter got %q; want its own upstream answer", r.body)
		}
		wantStatus(t, r, "detail=no-store")
	}
	if r := <-firstDone; r.body != "first" {
		t.Fatalf("first got %q", r.body)
	}
	if later.Load() != n-1 {
		t.Fatalf("%d waiters reached the upstream while the first body was held; want %d", later.Load(), n-1)
	}
}

func TestLockTimeoutSendsTheWaiterUpstreamUncached(t *testing.T) {
	release, open := gate(t)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Slow") != "" {
			<-release
		}
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = io.WriteString(w, "body")
	})
	cfg := testConfig(newClock())
	cfg.LockTimeout = 50 * time.Millisecond
	f := newFront(t, cfg, proxyTo(o))

	slow := make(chan reply, 1)
	go func() {
		r, _ := f.fetch(http.MethodGet, "/static/x.css", "X-Slow: yes")
		slow <- r
	}()
	waitFor(t, "the filler upstream", func() bool { return o.requests.Load() == 1 }, func() string { return "" })
	r := f.get(t, "/static/x.css")
	wantStatus(t, r, "fwd=uri-miss", "fwd-status=200", "detail=lock-timeout")
	if strings.Contains(r.cacheStatus(), "stored") {
		t.Errorf("Cache-Status %q: a lock-timeout request must not store", r.cacheStatus())
	}
	open()
	wantStatus(t, <-slow, "stored")
	if o.requests.Load() != 2 {
		t.Errorf("upstream got %d requests; want 2", o.requests.Load())
	}
}

func TestStaleIsServedWhenTheUpstreamTimesOut(t *testing.T) {
	k := newClock()
	hang, _ := gate(t)
	var hanging atomic.Bool
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if hanging.Load() {
			<-hang
			return
		}
		w.Header().Set("Cache-Control", "max-age=10")
		_, _ = io.WriteString(w, "v1")
	})
	cfg := testConfig(k)
	cfg.FillTimeout = 100 * time.Millisecond
	cfg.UseStale = StaleTimeout
	f := newFront(t, cfg, proxyTo(o))

	wantStatus(t, f.get(t, "/static/logo.png"), "stored")
	k.Advance(12 * time.Second)
	hanging.Store(true)
	r := f.get(t, "/static/logo.png")
	if r.status != http.StatusOK || r.body != "v1" {
		t.Fatalf("got %d %q; want the stale v1", r.status, r.body)
	}
	wantStatus(t, r, "fwd=stale", "ttl=-2", "detail=stale-timeout")
	if s := f.c.Stats(); s.Stale != 1 {
		t.Errorf("stats %+v; want 1 stale", s)
	}

	// Without use_stale timeout the client gets the timeout.
	cfg.UseStale = 0
	f2 := newFront(t, cfg, proxyTo(o))
	hanging.Store(false)
	f2.get(t, "/static/logo.png")
	k.Advance(12 * time.Second)
	hanging.Store(true)
	r = f2.get(t, "/static/logo.png")
	if r.status != http.StatusGatewayTimeout {
		t.Fatalf("status %d; want 504", r.status)
	}
	wantStatus(t, r, "fwd=stale", "detail=upstream-timeout")
}

func TestUseStaleConditions(t *testing.T) {
	tests := []struct {
		name     string
		useStale UseStale
		fail     string // how the upstream fails: "error" (unreachable), "503", "must-revalidate"
		want     int
		detail   string
	}{
		{"error serves stale", StaleError, "error", 200, "detail=stale-error"},
		{"http_503 serves stale", StaleHTTP503, "503", 200, "detail=stale-http_503"},
		{"503 without http_503 passes through", StaleError, "503", 503, "fwd-status=503"},
		{"error without the condition fails", StaleTimeout, "error", 502, "detail=upstream-error"},
		{"must-revalidate is never served stale", StaleError | StaleHTTP503, "must-revalidate", 503, "fwd-status=503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newClock()
			var failing atomic.Bool
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				if failing.Load() {
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				cc := "max-age=10"
				if tt.fail == "must-revalidate" {
					cc += ", must-revalidate"
				}
				w.Header().Set("Cache-Control", cc)
				_, _ = io.WriteString(w, "v1")
			})
			cfg := testConfig(k)
			cfg.UseStale = tt.useStale
			f := newFront(t, cfg, proxyTo(o))
			wantStatus(t, f.get(t, "/a"), "stored")
			k.Advance(11 * time.Second)
			if tt.fail == "error" {
				o.Close() // unreachable
			} else {
				failing.Store(true)
			}
			r := f.get(t, "/a")
			if r.status != tt.want {
				t.Fatalf("status %d (%s); want %d", r.status, r.cacheStatus(), tt.want)
			}
			wantStatus(t, r, "fwd=stale", tt.detail)
		})
	}
}

func TestStaleIsServedWhileAnotherRequestUpdates(t *testing.T) {
	k := newClock()
	release, open := gate(t)
	var slow atomic.Bool
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if slow.Load() {
			<-release
		}
		w.Header().Set("Cache-Control", "max-age=10")
		_, _ = io.WriteString(w, "v")
	})
	cfg := testConfig(k)
	cfg.UseStale = StaleUpdating
	f := newFront(t, cfg, proxyTo(o))
	f.get(t, "/a")
	k.Advance(11 * time.Second)
	slow.Store(true)
	updating := make(chan reply, 1)
	go func() { r, _ := f.fetch(http.MethodGet, "/a"); updating <- r }()
	waitFor(t, "the update upstream", func() bool { return o.requests.Load() == 2 }, func() string { return "" })

	r := f.get(t, "/a")
	wantStatus(t, r, "hit", "ttl=-1", "detail=stale-updating")
	open()
	wantStatus(t, <-updating, "fwd=stale", "stored")
}

func TestPanickingUpstreamFailsTheRequestOnly(t *testing.T) {
	var calls atomic.Int64
	up := UpstreamFunc(func(w http.ResponseWriter, r *http.Request) error {
		if calls.Add(1) == 1 {
			panic("upstream bug")
		}
		w.Header().Set("Cache-Control", "max-age=60")
		_, err := io.WriteString(w, "ok")
		return err
	})
	f := newFront(t, testConfig(newClock()), up)
	r := f.get(t, "/a")
	if r.status != http.StatusBadGateway {
		t.Fatalf("status %d; want 502", r.status)
	}
	wantStatus(t, r, "detail=upstream-error")
	r = f.get(t, "/a")
	if r.status != http.StatusOK || r.body != "ok" {
		t.Fatalf("after the panic: %d %q", r.status, r.body)
	}
}

func TestResponseLargerThanMaxEntrySizeStreamsThrough(t *testing.T) {
	big := strings.Repeat("x", 64<<10)
	for _, announced := range []bool{true, false} {
		t.Run(fmt.Sprintf("content-length %v", announced), func(t *testing.T) {
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=60")
				if announced {
					w.Header().Set("Content-Length", fmt.Sprint(len(big)))
				}
				for i := 0; i < len(big); i += 4 << 10 {
					_, _ = io.WriteString(w, big[i:i+4<<10])
					http.NewResponseController(w).Flush()
				}
			})
			cfg := testConfig(newClock())
			cfg.MaxEntrySize = 16 << 10
			f := newFront(t, cfg, proxyTo(o))
			r := f.get(t, "/big.bin")
			if r.body != big {
				t.Fatalf("got %d bytes; want %d", len(r.body), len(big))
			}
			wantStatus(t, r, "detail=too-large")
			wantStatus(t, f.get(t, "/big.bin"), "fwd=bypass", "detail=hit-for-pass")
			if s := f.c.Stats(); s.Entries != 0 || s.Bytes > cfg.MaxSize {
				t.Errorf("stats %+v; want nothing stored", s)
			}
		})
	}
}

// Two handlers of one cache, one behind the other (chorus_cache in front
// of a chorus directive whose static route caches into the same cache):
// the inner one passes the outer one's fill through instead of waiting on
// it.
func TestSameCacheNestedPassesItsOwnFillThrough(t *testing.T) {
	o := newOrigin(t, static("app", "Cache-Control: max-age=60"))
	cfg := testConfig(newClock())
	cfg.LockTimeout = time.Minute   // waiting on its own fill would show
	var inner atomic.Pointer[Cache] // set before any request
	up := UpstreamFunc(func(w http.ResponseWriter, r *http.Request) error {
		return inner.Load().Serve(w, r, proxyTo(o))
	})
	f := newFront(t, cfg, up)
	inner.Store(f.c)
	done := make(chan reply, 1)
	go func() { r, _ := f.fetch(http.MethodGet, "/static/app.js"); done <- r }()
	select {
	case r := <-done:
		wantStatus(t, r, "fwd=uri-miss", "stored")
	case <-time.After(5 * time.Second):
		t.Fatal("the nested handler waited on its own fill")
	}
	wantStatus(t, f.get(t, "/static/app.js"), "hit")
	if o.requests.Load() != 1 {
		t.Fatalf("upstream got %d requests; want 1", o.requests.Load())
	}
}
