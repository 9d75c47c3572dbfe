package balancer

import (
	"net"
	"net/http"
	"strconv"
	"strings"
)

// Forward says how [AppendRequestHead] forwards a client's request to a
// node: the rules of Caddy's reverse_proxy (with its HTTP transport)
// written out, so a node cannot tell which of the two sent a request.
type Forward struct {
	// Node is the node's address, host:port: the Host of a request that
	// has none (an HTTP/1.0 client).
	Node string
	// Trusted says the client is a trusted proxy (Caddy's trusted_proxies
	// matched its address): its X-Forwarded-For is extended and its
	// X-Forwarded-Proto and X-Forwarded-Host are kept. Otherwise they are
	// replaced.
	Trusted bool
	// RealIP sets X-Real-Ip to the client's address (the peer's host), as
	// the HA guide's "proxy_set_header X-Real-IP $remote_addr" does.
	RealIP bool
	// Set lists fields set to a fixed value, replacing the client's (as
	// reverse_proxy's header_up does). Keys must be canonical.
	Set []Field
	// Via is the name in the Via field added to the request ("Caddy").
	// Empty: no Via.
	Via string
	// Gzip asks the node for gzip when the client did not say what it
	// accepts, as Go's transport does unless compression is off; the
	// caller then decodes the answer (see [AppendRequestHead]).
	Gzip bool
}

// Field is one header field.
type Field struct {
	Key, Value string
}

// HopByHop reports whether the canonical key k is a hop-by-hop field
// that a proxy never forwards (RFC 9110 §7.6.1), in the list of Caddy's
// reverse_proxy (which adds Alt-Svc, and Proxy-Connection, which libcurl
// sends). The fields a Connection field names are hop-by-hop too; see
// [H1Response.EndToEnd].
func HopByHop(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Alt-Svc":
		return true
	}
	return false
}

// connectionListed reports whether the field k is named by one of the
// Connection field values (RFC 9110 §7.6.1: such fields are hop-by-hop
// too).
func connectionListed(conn []string, k string) bool { return HasToken(conn, k) }

// HasToken reports whether one of the comma-separated values vs holds
// token, case-insensitively (a Connection, TE or Upgrade list).
func HasToken(vs []string, token string) bool {
	for _, v := range vs {
		for v != "" {
			var tok string
			tok, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.Trim(tok, " \t"), token) {
				return true
			}
		}
	}
	return false
}

// Replayable reports whether r may be sent again after a connection
// broke before any answer, Go's transport's rule: a bodiless GET, HEAD,
// OPTIONS or TRACE, or a request carrying an Idempotency-Key.
func Replayable(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, a := r.Header["Idempotency-Key"]
	_, b := r.Header["X-Idempotency-Key"]
	return a || b
}

// AppendRequestHead appends to dst the HTTP/1.1 head forwarding the
// bodiless request r to a node, and reports whether it asked for gzip
// (f.Gzip and the client did not say what it accepts; the caller must
// then decode a gzip answer, drop its Content-Encoding and
// Content-Length, and stream it). The head is what Caddy's reverse_proxy
// sends with its HTTP transport:
//
//   - the request line with r's method and escaped path and query, over
//     HTTP/1.1; Host is r.Host (the node's address when r has none);
//     User-Agent only if the client sent a non-empty one (its first);
//     "Content-Length: 0" for POST, PUT and PATCH;
//   - no hop-by-hop field (Connection, the fields it lists, Keep-Alive,
//     Proxy-*, Te except "Te: trailers", Trailer, Transfer-Encoding,
//     Upgrade, Alt-Svc; RFC 9110 §7.6.1);
//   - X-Forwarded-For (the client's address, appended to the client's
//     list when it is a trusted proxy), X-Forwarded-Proto and
//     X-Forwarded-Host (the client's own when trusted); an untrusted
//     client's values are dropped;
//   - X-Real-Ip (f.RealIP), f.Set, and Via "<major>.<minor> <f.Via>"
//     appended to the client's Via.
//
// A field the server's handlers set to a nil slice is left out, as Go
// does. Field values have CR and LF replaced by spaces. Fields are
// written in map order, which a node cannot rely on anyway.
func AppendRequestHead(dst []byte, r *http.Request, f *Forward) ([]byte, bool) {
	h := r.Header
	dst = append(dst, r.Method...)
	dst = append(dst, ' ')
	dst = appendRequestURI(dst, r)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	if r.Host != "" {
		dst = appendValue(dst, r.Host)
	} else if host, port, _ := net.SplitHostPort(f.Node); port == "80" {
		dst = append(dst, host...) // reverse_proxy leaves out the scheme's port
	} else {
		dst = append(dst, f.Node...)
	}
	dst = append(dst, "\r\n"...)
	conn := h["Connection"]
	if len(conn) > 0 && connectionListed(conn, "User-Agent") {
		// reverse_proxy removes it after it made sure one is present, so
		// Go's transport puts in its own.
		dst = append(dst, "User-Agent: Go-http-client/1.1\r\n"...)
	} else if ua := h["User-Agent"]; len(ua) > 0 && ua[0] != "" {
		dst = appendField(dst, "User-Agent", ua[0])
	}
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		// Go's transport: many servers expect a length with these.
		dst = append(dst, "Content-Length: 0\r\n"...)
	}

	for k, vs := range h {
		switch k {
		case "Host", "User-Agent", "Content-Length", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host":
			// Written above, never (bodiless), or below.
			continue
		case "X-Real-Ip":
			if f.RealIP {
				continue
			}
		case "Te":
			// Te: trailers says the client takes trailers; kept unless
			// Connection names Te (it is then hop-by-hop all the same).
			if !connectionListed(conn, k) && HasToken(vs, "trailers") {
				dst = appendField(dst, "Te", "trailers")
			}
			continue
		}
		if HopByHop(k) || (len(conn) > 0 && connectionListed(conn, k)) || setsField(f.Set, k) {
			continue
		}
		if k == "Via" && f.Via != "" {
			// Ours is appended to the client's, below.
			continue
		}
		for _, v := range vs {
			dst = appendField(dst, k, v)
		}
	}

	dst = appendForwarded(dst, r, f.Trusted, conn)
	if f.RealIP {
		dst = append(dst, "X-Real-Ip: "...)
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr // a Unix socket's path, as Caddy's placeholder gives it
		}
		dst = appendValue(dst, host)
		dst = append(dst, "\r\n"...)
	}
	for _, s := range f.Set {
		dst = appendField(dst, s.Key, s.Value)
	}
	if f.Via != "" {
		if !connectionListed(conn, "Via") {
			for _, v := range h["Via"] {
				dst = appendField(dst, "Via", v)
			}
		}
		dst = append(dst, "Via: "...)
		dst = strconv.AppendInt(dst, int64(r.ProtoMajor), 10)
		dst = append(dst, '.')
		dst = strconv.AppendInt(dst, int64(r.ProtoMinor), 10)
		dst = append(dst, ' ')
		dst = append(dst, f.Via...)
		dst = append(dst, "\r\n"...)
	}
	gzip := false
	if f.Gzip && r.Method != http.MethodHead && clientValue(h, conn, "Accept-Encoding") == "" && clientValue(h, conn, "Range") == "" {
		// Go's transport asks for gzip and decodes it itself, so the
		// client gets identity either way.
		gzip = true
		dst = append(dst, "Accept-Encoding: gzip\r\n"...)
	}
	return append(dst, "\r\n"...), gzip
}

// appendForwarded appends X-Forwarded-For, -Proto and -Host by the rules
// of Caddy's reverse_proxy (addForwardedHeaders).
func appendForwarded(dst []byte, r *http.Request, trusted bool, conn []string) []byte {
	h := r.Header
	var clientIP string
	if r.RemoteAddr == "@" {
		// A Unix socket: no peer address to add; an untrusted peer's
		// values are dropped.
		if !trusted {
			return dst
		}
	} else {
		ip, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			return dst
		}
		// The handler's own trusted_proxies: none on this path; the
		// server's verdict comes in trusted.
		clientIP, _, _ = strings.Cut(ip, "%")
	}
	// A field the server's handlers set to nil is left out, as is a
	// field Connection names (it was removed before these were set).
	prior, ok, omit := fieldValues(h, "X-Forwarded-For", conn, true)
	if !omit {
		switch {
		case trusted && ok && prior != "":
			dst = append(dst, "X-Forwarded-For: "...)
			dst = appendValue(dst, prior)
			if clientIP != "" {
				dst = append(dst, ", "...)
				dst = append(dst, clientIP...)
			}
			dst = append(dst, "\r\n"...)
		case clientIP != "":
			dst = appendField(dst, "X-Forwarded-For", clientIP)
		case ok:
			// A trusted Unix-socket peer with an empty list: kept as is.
			for _, v := range h["X-Forwarded-For"] {
				dst = appendField(dst, "X-Forwarded-For", v)
			}
		}
	}
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	prior, ok, omit = fieldValues(h, "X-Forwarded-Proto", conn, false)
	if trusted && ok && prior != "" {
		proto = prior
	}
	if !omit {
		dst = appendField(dst, "X-Forwarded-Proto", proto)
	}
	host := r.Host
	prior, ok, omit = fieldValues(h, "X-Forwarded-Host", conn, false)
	if trusted && ok && prior != "" {
		host = prior
	}
	if !omit {
		dst = appendField(dst, "X-Forwarded-Host", host)
	}
	return dst
}

// fieldValues returns the client's values of k, all of them joined by
// ", " (all) or the last; ok says it has any, omit that a handler set k
// to nil. A field Connection names counts as absent.
func fieldValues(h http.Header, k string, conn []string, all bool) (value string, ok, omit bool) {
	vs, present := h[k]
	if present && vs == nil {
		return "", true, true
	}
	if len(vs) == 0 || (len(conn) > 0 && connectionListed(conn, k)) {
		return "", false, false
	}
	if !all || len(vs) == 1 {
		return vs[len(vs)-1], true, false
	}
	return strings.Join(vs, ", "), true, false
}

// clientValue returns the first value of k as forwarded: "" when absent
// or named by Connection.
func clientValue(h http.Header, conn []string, k string) string {
	if vs := h[k]; len(vs) > 0 && (len(conn) == 0 || !connectionListed(conn, k)) {
		return vs[0]
	}
	return ""
}

func setsField(set []Field, k string) bool {
	for _, s := range set {
		if s.Key == k {
			return true
		}
	}
	return false
}

// appendRequestURI appends r.URL's escaped path and query, as
// url.URL.RequestURI does, without building the string.
func appendRequestURI(dst []byte, r *http.Request) []byte {
	u := r.URL
	if u.Opaque != "" {
		dst = append(dst, u.Opaque...)
	} else if p := u.EscapedPath(); p != "" {
		dst = append(dst, p...)
	} else {
		dst = append(dst, '/')
	}
	if u.ForceQuery || u.RawQuery != "" {
		dst = append(dst, '?')
		dst = append(dst, u.RawQuery...)
	}
	return dst
}

func appendField(dst []byte, k, v string) []byte {
	dst = append(dst, k...)
	dst = append(dst, ": "...)
	dst = appendValue(dst, v)
	return append(dst, "\r\n"...)
}

// appendValue appends v trimmed of white space with CR and LF inside
// turned into spaces, as Go's header writer does, so no value can end the
// head.
func appendValue(dst []byte, v string) []byte {
	v = strings.Trim(v, " \t\r\n")
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '\r' || c == '\n' {
			for j := 0; j < len(v); j++ {
				c := v[j]
				if c == '\r' || c == '\n' {
					c = ' '
				}
				dst = append(dst, c)
			}
			return dst
		}
	}
	return append(dst, v...)
}
