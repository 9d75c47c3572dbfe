package cache

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// directives are the Cache-Control directives the cache acts on (RFC 9111
// §5.2), of a request or of a response. A duration is -1 when absent.
type directives struct {
	noStore, noCache, private, public   bool
	mustRevalidate, proxyRevalidate     bool
	onlyIfCached                        bool
	maxAge, sMaxAge, maxStale, minFresh time.Duration
}

// parseCacheControl reads Cache-Control field lines. Qualified no-cache and
// private ("private=Set-Cookie") count as unqualified, which RFC 9111
// §5.2.2.4 and §5.2.2.7 allow. An invalid delta-seconds counts as 0, so
// that the response is stale (§4.2.1 encourages it).
func parseCacheControl(lines []string) directives {
	d := directives{maxAge: -1, sMaxAge: -1, maxStale: -1, minFresh: -1}
	for _, line := range lines {
		for line != "" {
			var item string
			item, line = nextDirective(line)
			name, value, _ := strings.Cut(item, "=")
			name = strings.TrimSpace(name)
			value = strings.Trim(strings.TrimSpace(value), `"`)
			switch strings.ToLower(name) {
			case "no-store":
				d.noStore = true
			case "no-cache":
				d.noCache = true
			case "private":
				d.private = true
			case "public":
				d.public = true
			case "must-revalidate":
				d.mustRevalidate = true
			case "proxy-revalidate":
				d.proxyRevalidate = true
			case "only-if-cached":
				d.onlyIfCached = true
			case "max-age":
				d.maxAge = deltaSeconds(value)
			case "s-maxage":
				d.sMaxAge = deltaSeconds(value)
			case "min-fresh":
				d.minFresh = deltaSeconds(value)
			case "max-stale":
				if value == "" {
					d.maxStale = 1<<63 - 1 // any staleness (§5.2.1.2)
				} else {
					d.maxStale = deltaSeconds(value)
				}
			}
		}
	}
	return d
}

// nextDirective splits the first directive off a Cache-Control line,
// honouring quoted strings (no-cache="Set-Cookie, Set-Cookie2").
func nextDirective(s string) (item, rest string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case '\\':
			if quoted {
				i++
			}
		case ',':
			if !quoted {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

// deltaSeconds parses RFC 9111 §1.2.2 delta-seconds; invalid is 0 and an
// overflow is the largest value (2^31 seconds, as the RFC suggests).
func deltaSeconds(s string) time.Duration {
	if s == "" {
		return 0
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > 1<<31 {
		n = 1 << 31
	}
	return time.Duration(n) * time.Second
}

// cacheable lists the status codes whose responses the cache stores when
// they are fresh: RFC 9110 §15.1's heuristically cacheable ones plus 302
// and 307, which are stored only with explicit freshness (or Valid).
var cacheable = map[int]bool{
	200: true, 203: true, 204: true, 300: true, 301: true, 302: true, 307: true,
	308: true, 404: true, 405: true, 410: true, 414: true, 501: true,
}

// verdict is what the policy says of a response to a GET: whether it may be
// stored (reason empty) or why not, and how it may be used.
type verdict struct {
	reason        string        // "" storable; else a Cache-Status detail
	lifetime      time.Duration // freshness lifetime (§4.2.1)
	mustValidate  bool          // no-cache: validate before each use (§5.2.2.4)
	noStale       bool          // never served stale (§4.2.4)
	authorizedUse bool          // may answer requests with Authorization (§3.5)
	marksPass     bool          // the reason is the response's own: remember hit-for-pass
	hasValidator  bool
}

// judge applies RFC 9111 §3 (storing, for a shared cache) and §4.2.1
// (freshness) to a response to a GET. auth is whether the request carried
// Authorization; now is when the response arrived.
func (c *Cache) judge(status int, h http.Header, auth bool, now time.Time) verdict {
	cc := parseCacheControl(h["Cache-Control"])
	v := verdict{
		mustValidate:  cc.noCache,
		noStale:       cc.noCache || cc.mustRevalidate || cc.proxyRevalidate || cc.sMaxAge >= 0,
		authorizedUse: cc.public || cc.sMaxAge >= 0 || cc.mustRevalidate,
		hasValidator:  h.Get("Etag") != "" || h.Get("Last-Modified") != "",
	}
	pass := func(reason string) verdict {
		v.reason, v.marksPass = reason, true
		return v
	}
	switch {
	case status == http.StatusPartialContent || status == http.StatusNotModified:
		v.reason = "status" // an answer to a range or a condition, not the resource
		return v
	case status >= 500 && status != http.StatusNotImplemented:
		v.reason = "status" // usually passing: do not stop the lock over it
		return v
	case !cacheable[status]:
		return pass("status")
	case cc.noStore:
		return pass("no-store") // §5.2.2.5
	case cc.private:
		return pass("private") // §5.2.2.7: a shared cache never stores it
	case len(h["Set-Cookie"]) > 0:
		return pass("set-cookie") // one client's cookie must not reach another
	case auth && !v.authorizedUse:
		v.reason = "authorization" // §3.5; the key may still cache for others
		return v
	}
	if _, star := parseVary(h); star {
		return pass("vary-star") // §4.1: matches no request
	}
	explicit := true
	switch {
	case cc.sMaxAge >= 0:
		v.lifetime = cc.sMaxAge
	case cc.maxAge >= 0:
		v.lifetime = cc.maxAge
	case len(h["Expires"]) > 0:
		exp, err := http.ParseTime(h.Get("Expires"))
		if err == nil {
			v.lifetime = exp.Sub(dateOf(h, now))
		} // an invalid Expires means already expired (§5.3)
	default:
		explicit = false
		if d, ok := c.cfg.Valid[status]; ok {
			v.lifetime = d
		} else if d, ok := c.cfg.Valid[0]; ok {
			v.lifetime = d
		}
	}
	if cc.noCache {
		v.lifetime = 0
	}
	if v.lifetime <= 0 {
		v.lifetime = 0
		// Stored only to be revalidated: worth it with a validator and
		// revalidation on, and only if the upstream asked for it.
		if !(c.cfg.Revalidate && v.hasValidator && (explicit || cc.noCache)) {
			if cc.noCache {
				return pass("no-cache")
			}
			return pass("no-freshness")
		}
	}
	return v
}

// dateOf returns the response's Date, or now when it has none or a bad one.
func dateOf(h http.Header, now time.Time) time.Time {
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		return d
	}
	return now
}

// initialAge is RFC 9111 §4.2.3's corrected_initial_age of a response
// requested at reqTime and received at respTime.
func initialAge(h http.Header, reqTime, respTime time.Time) time.Duration {
	apparent := respTime.Sub(dateOf(h, respTime))
	if apparent < 0 {
		apparent = 0
	}
	var ageValue time.Duration
	if a := h.Get("Age"); a != "" {
		ageValue = deltaSeconds(a)
	}
	corrected := ageValue + respTime.Sub(reqTime)
	if apparent > corrected {
		return apparent
	}
	return corrected
}

// usable reports whether a fresh-or-not entry at age may answer a request
// with directives rc without going forward (RFC 9111 §4.2 and §5.2.1).
func usable(e *entry, age time.Duration, rc *directives) bool {
	if e.verdict.mustValidate || rc.noCache {
		return false
	}
	if rc.maxAge >= 0 && age > rc.maxAge {
		return false
	}
	fresh := e.lifetime - age
	if rc.minFresh >= 0 && fresh < rc.minFresh {
		return false
	}
	if fresh > 0 {
		return true
	}
	// max-stale: the client accepts this much staleness (§5.2.1.2), unless
	// the response forbids serving it stale.
	return rc.maxStale >= 0 && !e.verdict.noStale && -fresh <= rc.maxStale
}

// notModified reports whether a request's conditions make the answer from
// e a 304 (RFC 9110 §13.2.2: If-None-Match first, weak comparison; else
// If-Modified-Since).
func notModified(r *http.Request, e *entry) bool {
	if inm := r.Header["If-None-Match"]; len(inm) > 0 {
		if e.etag == "" {
			return false
		}
		for _, line := range inm {
			for _, t := range strings.Split(line, ",") {
				t = strings.TrimSpace(t)
				if t == "*" || weakEqual(t, e.etag) {
					return true
				}
			}
		}
		return false
	}
	ims := r.Header.Get("If-Modified-Since")
	if ims == "" || e.modified == "" {
		return false
	}
	since, err := http.ParseTime(ims)
	if err != nil {
		return false
	}
	modified, err := http.ParseTime(e.modified)
	return err == nil && !modified.After(since)
}

// weakEqual is RFC 9110 §8.8.3.2's weak comparison of two entity tags.
func weakEqual(a, b string) bool {
	return strings.TrimPrefix(a, "W/") == strings.TrimPrefix(b, "W/")
}

// hopByHop lists the fields that describe one connection, never stored nor
// forwarded (RFC 9110 §7.6.1), with the ones a cache manages itself.
var hopByHop = map[string]bool{
	"Connection": true, "Proxy-Connection": true, "Keep-Alive": true, "Te": true,
	"Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Proxy-Authenticate": true, "Proxy-Authorization": true,
	"Age": true, "Cache-Status": true,
}

// unsafe reports whether method is unsafe (RFC 9110 §9.2.1): a non-error
// response to it invalidates the stored responses of its URI (RFC 9111
// §4.4).
func unsafe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}
