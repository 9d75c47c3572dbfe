package cache

import (
	"strconv"
	"time"
)

// The fwd values of RFC 9211 §2.2 the cache uses: why a request went to the
// upstream.
const (
	fwdBypass   = "bypass"    // the cache does not handle this request (method, upgrade, hit-for-pass, …)
	fwdMethod   = "method"    // the method is not cacheable
	fwdURIMiss  = "uri-miss"  // nothing stored for the URI
	fwdVaryMiss = "vary-miss" // something stored, but not for this request's Vary fields
	fwdRequest  = "request"   // a stored response fits, but the request's directives forbid its use
	fwdStale    = "stale"     // the stored response is stale (or must be validated)
)

// result is what a response counts as in [Stats] and metrics.
type result uint8

const (
	resultHit    result = iota // served from the cache, no upstream request of its own
	resultMiss                 // went to the upstream and may have been stored
	resultStale                // a stale copy served because the upstream failed or was busy
	resultBypass               // the cache does not handle it (method, upgrade, hit-for-pass, …)
)

// cacheStatus is one Cache-Status list member (RFC 9211 §2): how the cache
// handled one request.
type cacheStatus struct {
	hit       bool          // served from the cache
	fwd       string        // why it went forward; "" if it did not
	fwdStatus int           // the upstream's status; 0 if none
	ttl       time.Duration // remaining freshness of the response served from the cache
	hasTTL    bool
	stored    bool   // the upstream's response was stored
	collapsed bool   // the request waited for another's fill instead of going forward
	detail    string // the implementation-specific why: min-uses, hit-for-pass, stale-timeout, …
}

// format renders the member with the cache's name, as in
// "chorus; fwd=uri-miss; fwd-status=200; stored" (§2.1: the parameters in
// the RFC's order).
func (s cacheStatus) format(name string) string {
	var buf [160]byte
	b := append(buf[:0], name...)
	if s.hit {
		b = append(b, "; hit"...)
	}
	if s.fwd != "" {
		b = append(b, "; fwd="...)
		b = append(b, s.fwd...)
	}
	if s.fwdStatus != 0 {
		b = append(b, "; fwd-status="...)
		b = strconv.AppendInt(b, int64(s.fwdStatus), 10)
	}
	if s.hasTTL {
		// Whole seconds, rounded toward zero; negative when stale.
		b = append(b, "; ttl="...)
		b = strconv.AppendInt(b, int64(s.ttl/time.Second), 10)
	}
	if s.stored {
		b = append(b, "; stored"...)
	}
	if s.collapsed {
		b = append(b, "; collapsed"...)
	}
	if s.detail != "" {
		b = append(b, "; detail="...)
		b = append(b, s.detail...)
	}
	return string(b)
}

// result classifies the member for [Stats]: a stale copy is stale, a
// response not forwarded or collapsed into another's fill is a hit, a
// bypass is a bypass, anything else forwarded is a miss.
func (s cacheStatus) result() result {
	switch {
	case len(s.detail) > 6 && s.detail[:6] == "stale-":
		return resultStale
	case s.hit || s.collapsed:
		return resultHit
	case s.fwd == fwdBypass || s.fwd == fwdMethod:
		return resultBypass
	}
	return resultMiss
}
