package cache

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBudgetIsNeverExceededWhileFillingPastMaxSize(t *testing.T) {
	body := strings.Repeat("b", 3000)
	o := newOrigin(t, static(body, "Cache-Control: max-age=600"))
	cfg := testConfig(newClock())
	cfg.MaxSize = 32 << 10
	cfg.MaxEntrySize = 8 << 10
	f := newFront(t, cfg, proxyTo(o))

	// A watcher samples the budget while 8 clients fill 200 distinct keys.
	var peak atomic.Int64
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			if b := f.c.Stats().Bytes; b > peak.Load() {
				peak.Store(b)
			}
			select {
			case <-stop:
				return
			default:
				runtime.Gosched() // sampling, not waiting: leave the CPU to the fills
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				r, err := f.fetch(http.MethodGet, fmt.Sprintf("/static/%d-%d.js", g, i))
				if err == nil && r.body != body {
					err = fmt.Errorf("short body: %d bytes", len(r.body))
				}
				if err != nil {
					errs <- err
					return
				}
				if b := f.c.Stats().Bytes; b > cfg.MaxSize {
					errs <- fmt.Errorf("after a fill the cache holds %d bytes; max_size is %d", b, cfg.MaxSize)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	<-watched
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s := f.c.Stats()
	if peak.Load() > cfg.MaxSize || s.Bytes > cfg.MaxSize {
		t.Fatalf("peak %d bytes, now %d; max_size %d", peak.Load(), s.Bytes, cfg.MaxSize)
	}
	if bodies := int64(s.Entries * len(body)); bodies > cfg.MaxSize {
		t.Fatalf("%d bodies of %d bytes held", s.Entries, len(body))
	}
	if s.Evicted == 0 || s.Entries == 0 {
		t.Fatalf("stats %+v; want evictions and some entries", s)
	}
}

func TestLeastRecentlyUsedKeyIsEvictedFirst(t *testing.T) {
	body := strings.Repeat("b", 3000)
	o := newOrigin(t, static(body, "Cache-Control: max-age=600"))
	cfg := testConfig(newClock())
	cfg.MaxSize = 12 << 10 // three entries fit, not four
	cfg.MaxEntrySize = 8 << 10
	f := newFront(t, cfg, proxyTo(o))
	f.get(t, "/1")
	f.get(t, "/2")
	f.get(t, "/3")
	wantStatus(t, f.get(t, "/1"), "hit") // /2 is now the least recently used
	f.get(t, "/4")
	wantStatus(t, f.get(t, "/1"), "hit")
	wantStatus(t, f.get(t, "/3"), "hit")
	wantStatus(t, f.get(t, "/2"), "fwd=uri-miss")
}

func TestInactiveKeysAreEvicted(t *testing.T) {
	k := newClock()
	o := newOrigin(t, static("x", "Cache-Control: max-age=86400"))
	cfg := testConfig(k)
	cfg.Inactive = 10 * time.Minute
	f := newFront(t, cfg, proxyTo(o))
	f.get(t, "/a")
	f.get(t, "/b")
	k.Advance(6 * time.Minute)
	wantStatus(t, f.get(t, "/b"), "hit")
	k.Advance(5 * time.Minute) // /a unused for 11 minutes, /b for 5
	f.c.Sweep()
	if s := f.c.Stats(); s.Expired != 1 || s.Entries != 1 {
		t.Fatalf("stats %+v; want /a expired and /b kept", s)
	}
	wantStatus(t, f.get(t, "/b"), "hit")
	wantStatus(t, f.get(t, "/a"), "fwd=uri-miss")
}
