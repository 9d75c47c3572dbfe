package cache

import (
	"net/http"
	"net/textproto"
	"sort"
	"strings"
)

// Key returns the cache key of r: scheme, host and request target as the
// upstream gets them, such as "https://chat.example.com/static/main.js?v=2"
// (NGINX's default key is $scheme$proxy_host$request_uri). GET and HEAD
// share a key, so HEAD is answered from a GET's response. The purge API
// takes these keys, or a prefix of them.
func Key(r *http.Request) string {
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	path := r.URL.EscapedPath()
	n := len(scheme) + len(r.Host) + len(path)
	if r.URL.RawQuery != "" || r.URL.ForceQuery {
		n += 1 + len(r.URL.RawQuery)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(scheme)
	b.WriteString(r.Host)
	b.WriteString(path)
	if r.URL.RawQuery != "" || r.URL.ForceQuery {
		b.WriteByte('?')
		b.WriteString(r.URL.RawQuery)
	}
	return b.String()
}

// parseVary returns the canonical, sorted, distinct field names a
// response's Vary lists, and whether it lists "*" (RFC 9110 §12.5.5), which
// no request can match, so such a response is never stored.
func parseVary(h http.Header) (names []string, star bool) {
	for _, v := range h["Vary"] {
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			switch {
			case f == "":
				continue
			case f == "*":
				return nil, true
			}
			f = textproto.CanonicalMIMEHeaderKey(f)
			if !contains(names, f) {
				names = append(names, f)
			}
		}
	}
	sort.Strings(names)
	return names, false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// varyValues returns, for each of names, the request's values of that
// field joined as one line: what a variant is selected by.
func varyValues(names []string, h http.Header) []string {
	if len(names) == 0 {
		return nil
	}
	vals := make([]string, len(names))
	for i, n := range names {
		vals[i] = strings.Join(h[n], ", ")
	}
	return vals
}

// variantKey extends key with the variant's values, for the fill lock of
// one variant.
func variantKey(key string, vals []string) string {
	if len(vals) == 0 {
		return key
	}
	return key + "\x00" + strings.Join(vals, "\x00")
}

// joinedEqual reports whether strings.Join(vals, ", ") == joined, without
// joining.
func joinedEqual(vals []string, joined string) bool {
	for i, v := range vals {
		if i > 0 {
			if !strings.HasPrefix(joined, ", ") {
				return false
			}
			joined = joined[2:]
		}
		if !strings.HasPrefix(joined, v) {
			return false
		}
		joined = joined[len(v):]
	}
	return joined == ""
}
