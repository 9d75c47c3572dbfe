package cache

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clock is an injected clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Now().Truncate(time.Second)}
}

func (k *clock) Now() time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.now
}

func (k *clock) Advance(d time.Duration) {
	k.mu.Lock()
	k.now = k.now.Add(d)
	k.mu.Unlock()
}

// httpDate formats t as a Date or Expires field.
func httpDate(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

// origin is a real HTTP upstream on loopback that counts its requests.
type origin struct {
	*httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	seen     []*http.Request // clones of the requests received, in order
}

func newOrigin(t *testing.T, h http.HandlerFunc) *origin {
	t.Helper()
	o := &origin{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.requests.Add(1)
		o.mu.Lock()
		o.seen = append(o.seen, r.Clone(r.Context()))
		o.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(func() {
		openGates(t)
		o.Close()
	})
	return o
}

// last returns the last request the origin received.
func (o *origin) last() *http.Request {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.seen) == 0 {
		return nil
	}
	return o.seen[len(o.seen)-1]
}

// proxyTo is an Upstream that forwards to the origin over HTTP, as
// reverse_proxy does: an error when the origin cannot be reached or sends
// no response, the body streamed with flushes, ErrAbortHandler when the
// body breaks off.
func proxyTo(o *origin) Upstream {
	transport := &http.Transport{MaxIdleConnsPerHost: 200, DisableCompression: true}
	return UpstreamFunc(func(w http.ResponseWriter, r *http.Request) error {
		out := r.Clone(r.Context())
		out.RequestURI = ""
		out.URL.Scheme = "http"
		out.URL.Host = o.Listener.Addr().String()
		res, err := transport.RoundTrip(out)
		if err != nil {
			return fmt.Errorf("proxying: %w", err)
		}
		defer res.Body.Close()
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		buf := make([]byte, 32<<10)
		for {
			n, err := res.Body.Read(buf)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					panic(http.ErrAbortHandler)
				}
				_ = http.NewResponseController(w).Flush()
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				panic(http.ErrAbortHandler)
			}
		}
	})
}

// front is a real HTTP server that answers through the cache, as the
// Caddy glue does: Serve's errors become 504 (timeout) or 502.
type front struct {
	*httptest.Server
	c      *Cache
	client *http.Client
}

func newFront(t *testing.T, cfg Config, up Upstream) *front {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := &front{c: c}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := c.Serve(w, r, up); err != nil {
			status := http.StatusBadGateway
			if errors.Is(err, ErrTimeout) {
				status = http.StatusGatewayTimeout
			}
			w.WriteHeader(status)
		}
	}))
	t.Cleanup(func() {
		openGates(t)
		f.Close()
	})
	f.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 200, DisableCompression: true}}
	t.Cleanup(f.client.CloseIdleConnections)
	return f
}

// testConfig is DefaultConfig with the lock and min_uses out of the way,
// short timeouts and the clock k.
func testConfig(k *clock) Config {
	cfg := DefaultConfig()
	cfg.MinUses = 1
	cfg.LockTimeout = 10 * time.Second
	cfg.FillTimeout = 10 * time.Second
	cfg.Now = k.Now
	return cfg
}

// reply is a response as the client saw it.
type reply struct {
	status int
	header http.Header
	body   string
}

func (r reply) cacheStatus() string { return r.header.Get("Cache-Status") }

// fetch sends method path with header lines "Name: value" and returns the
// reply. It is safe to call from any goroutine.
func (f *front) fetch(method, path string, header ...string) (reply, error) {
	req, err := http.NewRequest(method, f.URL+path, nil)
	if err != nil {
		return reply{}, err
	}
	for _, h := range header {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Add(k, strings.TrimSpace(v))
	}
	res, err := f.client.Do(req)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return reply{}, fmt.Errorf("%s %s: reading body: %w", method, path, err)
	}
	return reply{status: res.StatusCode, header: res.Header, body: string(body)}, nil
}

// do is fetch for the test goroutine: an error fails the test.
func (f *front) do(t *testing.T, method, path string, header ...string) reply {
	t.Helper()
	r, err := f.fetch(method, path, header...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// burst sends n concurrent GETs of path and returns the replies.
func (f *front) burst(t *testing.T, n int, path string, header ...string) []reply {
	t.Helper()
	replies := make([]reply, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { replies[i], errs[i] = f.fetch(http.MethodGet, path, header...) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return replies
}

// gates holds, per test, the opening of every gate, run before an origin
// closes (httptest.Server.Close waits for handlers blocked on them).
var gates sync.Map // *testing.T → *gateList

type gateList struct {
	mu    sync.Mutex
	opens []func()
}

// gate is a channel closed once, by the test or at its end, so that a
// blocked upstream handler never outlives the test.
func gate(t *testing.T) (wait <-chan struct{}, open func()) {
	ch := make(chan struct{})
	var once sync.Once
	open = func() { once.Do(func() { close(ch) }) }
	v, _ := gates.LoadOrStore(t, &gateList{})
	l := v.(*gateList)
	l.mu.Lock()
	l.opens = append(l.opens, open)
	l.mu.Unlock()
	t.Cleanup(open)
	return ch, open
}

// openGates opens every gate of t.
func openGates(t *testing.T) {
	if v, ok := gates.Load(t); ok {
		l := v.(*gateList)
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, open := range l.opens {
			open()
		}
	}
}

func (f *front) get(t *testing.T, path string, header ...string) reply {
	t.Helper()
	return f.do(t, http.MethodGet, path, header...)
}

// wantStatus fails unless the Cache-Status contains every part.
func wantStatus(t *testing.T, r reply, parts ...string) {
	t.Helper()
	cs := r.cacheStatus()
	if !strings.HasPrefix(cs, "chorus") {
		t.Fatalf("Cache-Status %q: want a chorus member", cs)
	}
	for _, p := range parts {
		if !strings.Contains(cs, p) {
			t.Fatalf("Cache-Status %q: want %q", cs, p)
		}
	}
}

// waitFor polls cond until it holds or the long stop passes, then fails
// with what dump says.
func waitFor(t *testing.T, what string, cond func() bool, dump func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %s", what, dump())
		}
		time.Sleep(time.Millisecond) // polling interval, not a wait for an outcome
	}
}

// static answers every request with body and the given header lines.
func static(body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, h := range header {
			k, v, _ := strings.Cut(h, ":")
			w.Header().Add(k, strings.TrimSpace(v))
		}
		_, _ = io.WriteString(w, body)
	}
}
