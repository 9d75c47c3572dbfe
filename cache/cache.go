package cache

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// ErrTimeout is returned (wrapped) by [Cache.Serve] when the upstream sent
// no response within FillTimeout and no stale copy could stand in. The
// Caddy glue answers it with 504.
var ErrTimeout = errors.New("cache: upstream timed out")

// Upstream answers the requests the cache forwards. Caddy's
// caddyhttp.Handler (the next handler of a middleware) satisfies it.
//
// Contract: ServeHTTP may run on a goroutine other than the client's, with
// a clone of the client's request whose context keeps the client's values
// but not its cancellation (a fill that other requests wait on must not die
// with the client that started it). [Cache.Serve] does not return while
// such a call on its request runs, so per-request state kept in context
// values (Caddy's replacer and vars) is never used by two goroutines at
// once. ServeHTTP returns an error only when it wrote no response, or cut
// one short; it may panic with http.ErrAbortHandler when a write fails, as
// reverse_proxy does.
type Upstream interface {
	ServeHTTP(w http.ResponseWriter, r *http.Request) error
}

// UpstreamFunc adapts a function to [Upstream].
type UpstreamFunc func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP calls f(w, r).
func (f UpstreamFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) error { return f(w, r) }

// Cache is an in-memory HTTP response cache with NGINX proxy_cache
// semantics under the rules of RFC 9111 for a shared cache. It is safe for
// concurrent use. Make one with [New] and put [Cache.Serve] in front of an
// [Upstream].
type Cache struct {
	cfg   Config
	now   func() time.Time
	fills singleflight.Group // the lock: one fill per key and variant; zero value ready

	mu  sync.Mutex // guards lru and every record reachable from it
	lru lru

	hits, misses, stale, bypassed atomic.Uint64 // responses by result
	waiting                       atomic.Int64  // requests waiting on a fill now
}

// New returns an empty cache with cfg's settings, or an error naming the
// field that is wrong. cfg is copied; the cache never writes to it.
func New(cfg Config) (*Cache, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Valid = maps.Clone(cfg.Valid)
	c := &Cache{cfg: cfg, now: cfg.Now, lru: newLRU(cfg.MaxSize)}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// Config returns the cache's settings.
func (c *Cache) Config() Config {
	cfg := c.cfg
	cfg.Valid = maps.Clone(c.cfg.Valid)
	return cfg
}

// entry is one stored response. It is immutable once made: a revalidation
// makes a new entry that shares the body.
type entry struct {
	status     int
	fields     []field // header fields as served, sorted by name
	nvals      int     // values across fields, for the one-allocation copy
	body       []byte
	varyVals   []string // the request's values of the record's Vary fields
	respTime   time.Time
	initialAge time.Duration // RFC 9111 §4.2.3 corrected_initial_age
	lifetime   time.Duration // RFC 9111 §4.2.1 freshness_lifetime
	verdict    verdict
	etag       string
	modified   string // Last-Modified
	size       int64  // bytes charged against MaxSize
}

// field is one header field of a stored response.
type field struct {
	name string
	vals []string
}

// age is the entry's current_age at now (RFC 9111 §4.2.3).
func (e *entry) age(now time.Time) time.Duration {
	return e.initialAge + now.Sub(e.respTime)
}

// varyMatches reports whether a request with header h selects e, given
// the field names its record varies on (RFC 9111 §4.1).
func (e *entry) varyMatches(names []string, h http.Header) bool {
	if len(e.varyVals) != len(names) {
		return false
	}
	for i, n := range names {
		if !joinedEqual(h[n], e.varyVals[i]) {
			return false
		}
	}
	return true
}

// header returns the entry's header fields as a new http.Header.
func (e *entry) header() http.Header {
	h := make(http.Header, len(e.fields))
	for _, f := range e.fields {
		h[f.name] = slices.Clone(f.vals)
	}
	return h
}

// fillingKey is the context key under which a forward's request carries
// the cache that sent it.
type fillingKey struct{}

// noDirectives is a request without Cache-Control.
var noDirectives = directives{maxAge: -1, sMaxAge: -1, maxStale: -1, minFresh: -1}

// Serve answers r from the cache or through next, storing what RFC 9111
// and the settings allow, and sets Cache-Status on every response. It
// returns next's error when it could serve nothing (the caller answers
// it, as Caddy's error routes do), or an error wrapping [ErrTimeout].
// Cancelling r's context stops a request waiting for another's fill; a
// fill of its own runs on until its upstream response is complete or
// FillTimeout passes, because other requests may be waiting for it.
func (c *Cache) Serve(w http.ResponseWriter, r *http.Request, next Upstream) error {
	if filler, _ := r.Context().Value(fillingKey{}).(*Cache); filler == c {
		// This cache's own forward, come back through a second handler
		// of the same cache (two chorus_cache handlers sharing a cache,
		// one behind the other): looking up again would wait on the very
		// fill that is asking.
		return next.ServeHTTP(w, r)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return c.bypass(w, r, next, cacheStatus{fwd: fwdMethod})
	}
	if len(r.Header["Upgrade"]) > 0 {
		return c.bypass(w, r, next, cacheStatus{fwd: fwdBypass, detail: "upgrade"})
	}
	rc := noDirectives
	if lines := r.Header["Cache-Control"]; len(lines) > 0 {
		rc = parseCacheControl(lines)
	}
	key := Key(r)
	auth := len(r.Header["Authorization"]) > 0
	now := c.now()

	c.mu.Lock()
	c.lru.sweep(now, c.cfg.Inactive)
	rec := c.lru.get(key)
	var e *entry
	fwd := fwdURIMiss
	if rec != nil {
		c.lru.touch(rec, now)
		e = rec.match(r.Header)
		if e == nil && len(rec.entries) > 0 {
			fwd = fwdVaryMiss
		}
	}
	if e != nil && auth && !e.verdict.authorizedUse {
		e = nil // RFC 9111 §3.5: not for a request with credentials
	}
	if e != nil {
		age := e.age(now)
		if usable(e, age, &rc) {
			c.mu.Unlock()
			return c.serveEntry(w, r, e, now, cacheStatus{hit: true})
		}
		fwd = fwdStale
		if e.lifetime > age && !e.mustValidate() {
			fwd = fwdRequest // fresh, but the request asked for more
		}
	}
	// A stale copy may stand in for a failed or busy upstream only if
	// neither the response (no-cache, must-revalidate, s-maxage) nor the
	// request (no-cache, max-age, min-fresh) forbids it (RFC 9111 §4.2.4).
	canStale := e != nil && fwd == fwdStale && !e.verdict.noStale && !rc.noCache && rc.maxAge < 0 && rc.minFresh < 0
	if canStale && c.cfg.UseStale&StaleUpdating != 0 && rec.updating > 0 {
		c.mu.Unlock()
		return c.serveEntry(w, r, e, now, cacheStatus{hit: true, detail: "stale-updating"})
	}
	if rc.onlyIfCached {
		c.mu.Unlock()
		return c.gatewayTimeout(w, cacheStatus{fwd: fwd, detail: "only-if-cached"}) // §5.2.1.7
	}
	passing := rec != nil && now.Before(rec.passUntil)
	belowMinUses := false
	if e == nil && !passing && !auth && !rc.noStore && c.cfg.MinUses > 1 {
		if rec == nil {
			rec = c.lru.add(key, now)
			c.lru.shrink(rec)
		}
		rec.uses++
		belowMinUses = rec.uses < c.cfg.MinUses
	}
	c.mu.Unlock()

	switch {
	case rc.noStore:
		// Nothing of this exchange may be stored (§5.2.1.5).
		return c.forward(w, r, next, c.newFill(r, key, rec, nil, false, false, cacheStatus{fwd: fwdBypass, detail: "request-no-store"}))
	case passing:
		// Hit-for-pass: straight to the upstream; a storable answer is
		// stored (and ends the pass), as Varnish's hit-for-miss does.
		return c.forward(w, r, next, c.newFill(r, key, rec, e, true, canStale, cacheStatus{fwd: fwdBypass, detail: "hit-for-pass"}))
	case auth:
		// Never collapsed with others: the answer may be this user's only.
		return c.forward(w, r, next, c.newFill(r, key, rec, e, true, canStale, cacheStatus{fwd: fwd}))
	case belowMinUses:
		return c.forward(w, r, next, c.newFill(r, key, rec, nil, false, false, cacheStatus{fwd: fwd, detail: "min-uses"}))
	case fwd == fwdRequest || !c.cfg.Lock:
		return c.forward(w, r, next, c.newFill(r, key, rec, e, true, canStale, cacheStatus{fwd: fwd}))
	}
	flightKey := key
	if rec != nil && len(rec.vary) > 0 {
		flightKey = variantKey(key, varyValues(rec.vary, r.Header))
	}
	return c.fillShared(w, r, next, c.newFill(r, key, rec, e, true, canStale, cacheStatus{fwd: fwd}), flightKey)
}

// mustValidate reports whether a stored no-cache response must be
// validated before each use (RFC 9111 §5.2.2.4).
func (e *entry) mustValidate() bool { return e.verdict.mustValidate }

// serveEntry writes e to w with Age and Cache-Status, or a 304 when r's
// conditions match it. The stored header values are copied with one
// allocation (handlers further out may change w's header in place); the
// body is written from the entry, never copied.
func (c *Cache) serveEntry(w http.ResponseWriter, r *http.Request, e *entry, now time.Time, st cacheStatus) error {
	age := e.age(now)
	if age < 0 {
		age = 0
	}
	age = age.Truncate(time.Second) // Age is whole seconds (RFC 9111 §5.1); ttl agrees with it
	st.ttl, st.hasTTL = e.lifetime-age, true
	h := w.Header()
	vals := make([]string, e.nvals+2)
	i := 0
	for _, f := range e.fields {
		n := copy(vals[i:], f.vals)
		h[f.name] = vals[i : i+n : i+n]
		i += n
	}
	vals[i] = strconv.FormatInt(int64(age/time.Second), 10)
	h["Age"] = vals[i : i+1 : i+1] // RFC 9111 §5.1: on every response from the cache
	vals[i+1] = st.format(c.cfg.Name)
	if prior := h["Cache-Status"]; len(prior) > 0 {
		h["Cache-Status"] = append(prior, vals[i+1])
	} else {
		h["Cache-Status"] = vals[i+1 : i+2 : i+2]
	}
	c.count(st)
	if notModified(r, e) {
		// As net/http's ServeContent: a 304 carries no representation
		// metadata (RFC 9110 §15.4.5).
		delete(h, "Content-Type")
		delete(h, "Content-Length")
		delete(h, "Content-Encoding")
		if e.etag != "" {
			delete(h, "Last-Modified")
		}
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	w.WriteHeader(e.status)
	if r.Method != http.MethodHead && len(e.body) > 0 {
		// A failed write means the client left; there is nobody to tell.
		_, _ = w.Write(e.body)
	}
	return nil
}

// gatewayTimeout answers 504 itself (only-if-cached without a stored
// response).
func (c *Cache) gatewayTimeout(w http.ResponseWriter, st cacheStatus) error {
	w.Header().Add("Cache-Status", st.format(c.cfg.Name))
	c.count(st)
	w.WriteHeader(http.StatusGatewayTimeout)
	return nil
}

// count adds one response to the statistics.
func (c *Cache) count(st cacheStatus) {
	switch st.result() {
	case resultHit:
		c.hits.Add(1)
	case resultMiss:
		c.misses.Add(1)
	case resultStale:
		c.stale.Add(1)
	case resultBypass:
		c.bypassed.Add(1)
	}
}

// bypass passes a request the cache does not handle (an unsafe method, an
// upgrade) to next, adding Cache-Status, and invalidates the URI's stored
// responses after a non-error answer to an unsafe method.
func (c *Cache) bypass(w http.ResponseWriter, r *http.Request, next Upstream, st cacheStatus) error {
	bw := &bypassWriter{ResponseWriter: w, cs: st.format(c.cfg.Name)}
	c.count(st)
	err := next.ServeHTTP(bw, r)
	if bw.status == 0 {
		w.Header().Add("Cache-Status", bw.cs) // for whoever answers the error
	}
	if unsafe(r.Method) && err == nil && bw.status >= 200 && bw.status < 400 {
		c.invalidate(r, bw.Header())
	}
	return err
}

// invalidate drops the stored responses of r's URI and of the same-host
// URIs in Location and Content-Location (RFC 9111 §4.4).
func (c *Cache) invalidate(r *http.Request, h http.Header) {
	keys := []string{Key(r)}
	for _, name := range []string{"Location", "Content-Location"} {
		v := h.Get(name)
		if v == "" {
			continue
		}
		u, err := r.URL.Parse(v)
		if err != nil || (u.Host != "" && u.Host != r.Host) {
			continue
		}
		target := &http.Request{URL: u, Host: r.Host, TLS: r.TLS}
		keys = append(keys, Key(target))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		c.lru.purge(k, false)
	}
}

// bypassWriter adds the Cache-Status of a bypassed request to its final
// response, and records its status.
type bypassWriter struct {
	http.ResponseWriter
	cs     string
	status int
}

func (w *bypassWriter) WriteHeader(code int) {
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
		w.Header().Add("Cache-Status", w.cs)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *bypassWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection (flush,
// hijack for an upgrade).
func (w *bypassWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// store files e under key as the variant its request selects, with vary
// the field names of its Vary, and reports whether it is stored. It ends a
// hit-for-pass mark and evicts least recently used keys past MaxSize.
func (c *Cache) store(key string, e *entry, vary []string, now time.Time) bool {
	if e.size+int64(len(key))+KeyOverhead > c.cfg.MaxSize {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	rec := c.lru.get(key)
	if rec == nil {
		rec = c.lru.add(key, now)
	} else {
		c.lru.touch(rec, now)
	}
	entries := make([]*entry, 1, maxVariants)
	entries[0] = e
	if slices.Equal(rec.vary, vary) {
		for _, old := range rec.entries {
			if len(entries) < maxVariants && !slices.Equal(old.varyVals, e.varyVals) {
				entries = append(entries, old)
			}
		}
	} // else the variants were chosen by other fields: they all go
	rec.vary = vary
	rec.passUntil = time.Time{}
	c.lru.setEntries(rec, entries)
	c.lru.shrink(rec)
	return !rec.removed
}

// markPass remembers key as uncacheable for PassTTL (hit-for-pass) and
// drops its stored responses, which the upstream no longer lets anyone
// store.
func (c *Cache) markPass(key string, now time.Time) {
	if c.cfg.PassTTL <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	rec := c.lru.get(key)
	if rec == nil {
		rec = c.lru.add(key, now)
	}
	rec.passUntil = now.Add(c.cfg.PassTTL)
	if len(rec.entries) > 0 {
		c.lru.setEntries(rec, nil)
	}
	c.lru.shrink(rec)
}

// beginUpdate and endUpdate count the forwards in flight that may store
// into rec, for use_stale updating.
func (c *Cache) beginUpdate(rec *record) {
	c.mu.Lock()
	rec.updating++
	c.mu.Unlock()
}

func (c *Cache) endUpdate(rec *record) {
	c.mu.Lock()
	rec.updating--
	c.mu.Unlock()
}

// newEntry makes the entry of a response to a GET received at respTime
// for a request sent at reqTime with header reqHeader, and returns it
// with the field names its Vary lists.
func (c *Cache) newEntry(status int, h http.Header, body []byte, v verdict, reqHeader http.Header, reqTime, respTime time.Time) (*entry, []string) {
	vary, _ := parseVary(h)
	e := &entry{
		status:     status,
		body:       body,
		varyVals:   varyValues(vary, reqHeader),
		respTime:   respTime,
		initialAge: initialAge(h, reqTime, respTime),
		lifetime:   v.lifetime,
		verdict:    v,
		etag:       h.Get("Etag"),
		modified:   h.Get("Last-Modified"),
	}
	skip := map[string]bool{}
	for _, line := range h["Connection"] {
		for _, name := range strings.Split(line, ",") {
			skip[http.CanonicalHeaderKey(strings.TrimSpace(name))] = true
		}
	}
	names := make([]string, 0, len(h)+1)
	for name := range h {
		if !hopByHop[name] && !skip[name] && name != "Content-Length" && !strings.HasPrefix(name, http.TrailerPrefix) {
			names = append(names, name)
		}
	}
	withLength := status != http.StatusNoContent && status != http.StatusNotModified
	if withLength {
		names = append(names, "Content-Length")
	}
	slices.Sort(names)
	size := int64(len(body)) + entryOverhead
	for _, name := range names {
		vals := h[name]
		if name == "Content-Length" {
			vals = []string{strconv.Itoa(len(body))}
		}
		vals = slices.Clip(slices.Clone(vals))
		e.fields = append(e.fields, field{name: name, vals: vals})
		e.nvals += len(vals)
		size += int64(len(name))
		for _, v := range vals {
			size += int64(len(v)) + 16
		}
	}
	for _, v := range e.varyVals {
		size += int64(len(v))
	}
	e.size = size
	return e, vary
}

// renew applies a 304 to the stale entry a fill revalidated (RFC 9111
// §4.3.4: the stored fields are updated from the 304's, except
// Content-Length) and stores the result, which it returns with its Vary
// field names and whether it was stored. If the updated response may no longer be stored, the key
// goes hit-for-pass and the renewed response serves this once.
func (c *Cache) renew(f *fill, h304 http.Header, now time.Time) (*entry, []string, bool) {
	old := f.stale
	h := old.header()
	for name, vals := range h304 {
		if hopByHop[name] || name == "Content-Length" {
			continue
		}
		h[name] = vals
	}
	v := c.judge(old.status, h, f.auth, now)
	e, vary := c.newEntry(old.status, h, old.body, v, f.req.Header, f.reqTime, now)
	if v.reason != "" {
		if v.marksPass {
			c.markPass(f.key, now)
		}
		return e, vary, false
	}
	return e, vary, c.store(f.key, e, vary, now)
}

// Purge removes the stored responses of key (as [Key] makes it) and
// reports whether there were any.
func (c *Cache) Purge(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.purge(key, false) > 0
}

// PurgePrefix removes every key starting with prefix, such as
// "https://chat.example.com/static/", and returns how many went. It walks
// every key.
func (c *Cache) PurgePrefix(prefix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.purge(prefix, true)
}

// Sweep removes the keys unused for Inactive. Every request already does
// this; a janitor calls it so an idle cache frees its memory too.
func (c *Cache) Sweep() {
	now := c.now()
	c.mu.Lock()
	c.lru.sweep(now, c.cfg.Inactive)
	c.mu.Unlock()
}

// Stats is a snapshot of a cache's counters.
type Stats struct {
	// Responses by result: a Hit was served from the cache (a request
	// that waited for another's fill counts here); a Miss went to the
	// upstream (a fill, a revalidation, min_uses, lock timeout); a Stale
	// was served a stale copy; a Bypass is a request the cache does not
	// handle (other methods, upgrades, hit-for-pass, request no-store).
	Hits, Misses, Stale, Bypass uint64

	// Keys removed: Evicted to stay within MaxSize, Expired after
	// Inactive unused, Purged by the purge API or invalidation.
	Evicted, Expired, Purged uint64

	// Bytes charged against MaxSize now: bodies, header fields and
	// KeyOverhead per key. Never more than MaxSize.
	Bytes int64
	// Entries is the stored responses now; Keys the keys known now
	// (stored, counting uses for min_uses, or marked hit-for-pass).
	Entries, Keys int
	// Waiting is the requests waiting on a fill now, its filler included.
	Waiting int64
}

// Stats returns the cache's counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	s := Stats{
		Evicted: c.lru.evicted, Expired: c.lru.expired, Purged: c.lru.purged,
		Bytes: c.lru.bytes, Entries: c.lru.entries, Keys: c.lru.keys,
	}
	c.mu.Unlock()
	s.Hits, s.Misses, s.Stale, s.Bypass = c.hits.Load(), c.misses.Load(), c.stale.Load(), c.bypassed.Load()
	s.Waiting = c.waiting.Load()
	return s
}

// Interface guards.
var (
	_ Upstream            = UpstreamFunc(nil)
	_ http.ResponseWriter = (*bypassWriter)(nil)
)
