package cache

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// discard is the cheapest ResponseWriter: it keeps its header map between
// requests (cleared, so its buckets are reused), so the allocations a
// benchmark reports are the cache's own.
type discard struct {
	h http.Header
	n int
}

func (w *discard) Header() http.Header         { return w.h }
func (w *discard) WriteHeader(int)             {}
func (w *discard) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// staticFile answers like Mattermost's static file handler.
func staticFile(body []byte) Upstream {
	return UpstreamFunc(func(w http.ResponseWriter, r *http.Request) error {
		h := w.Header()
		h.Set("Content-Type", "application/javascript")
		h.Set("Cache-Control", "max-age=31556926, public")
		h.Set("Etag", `"5f3c1a2b-32000"`)
		h.Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
		h.Set("Accept-Ranges", "bytes")
		h.Set("Vary", "Accept-Encoding")
		_, err := w.Write(body)
		return err
	})
}

// BenchmarkHit serves a stored static file of 2 KB and 200 KB. The
// allocations per hit are the same for both sizes: the body is written
// from the entry, never copied. x-direct is the time of a hit over the
// time of writing the same stored header fields and body straight from
// memory (the anchor, measured in the same run).
func BenchmarkHit(b *testing.B) {
	for _, size := range []int{2 << 10, 200 << 10} {
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			body := bytes.Repeat([]byte("x"), size)
			cfg := DefaultConfig()
			cfg.MinUses = 1
			c, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			up := staticFile(body)
			r := httptest.NewRequest(http.MethodGet, "http://chat.example.com/static/main.js", nil)
			r.Header.Set("Accept-Encoding", "gzip, deflate, br")
			w := &discard{h: make(http.Header)}
			if err := c.Serve(w, r, up); err != nil || w.n != size {
				b.Fatalf("priming: %v, %d bytes", err, w.n)
			}
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				clear(w.h)
				_ = c.Serve(w, r, up)
			}
			b.StopTimer()
			if c.Stats().Misses != 1 {
				b.Fatalf("stats %+v: the loop missed", c.Stats())
			}
			hit := b.Elapsed()
			// The anchor, as many times: the stored fields and body
			// written straight from memory.
			stored := w.h.Clone()
			start := time.Now()
			for range b.N {
				clear(w.h)
				for k, v := range stored {
					w.h[k] = v
				}
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write(body)
			}
			b.ReportMetric(float64(hit)/float64(time.Since(start)), "x-direct")
		})
	}
}

// BenchmarkHitParallel is BenchmarkHit with every core asking at once, so
// that the lock around the LRU shows.
func BenchmarkHitParallel(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 2<<10)
	cfg := DefaultConfig()
	cfg.MinUses = 1
	c, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	up := staticFile(body)
	prime := httptest.NewRequest(http.MethodGet, "http://chat.example.com/static/main.js", nil)
	if err := c.Serve(&discard{h: make(http.Header)}, prime, up); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest(http.MethodGet, "http://chat.example.com/static/main.js", nil)
		w := &discard{h: make(http.Header)}
		for pb.Next() {
			clear(w.h)
			_ = c.Serve(w, r, up)
		}
	})
}
