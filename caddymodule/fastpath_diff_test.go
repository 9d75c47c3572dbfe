package caddymodule

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/seed331fb32b/chorus/balancer"
)

// recorder is an app node that records every request it receives as
// parsed by Go's HTTP server code (method, target, Host, fields, body,
// trailers) and answers each with the raw bytes its test case scripts: a
// node that can answer anything, well-formed or not.
type recorder struct {
	ln      net.Listener
	mu      sync.Mutex // guards got and scripts
	got     []received
	scripts map[string]script
}

// script is a node's raw answer to the path /diff/<case>[/…].
type script struct {
	raw   string // the bytes sent back; may be several answers (1xx) or a cut one
	close bool   // close the connection after writing raw
}

type received struct {
	Method, URI, Proto, Host string
	Header                   http.Header
	Body                     string
	Trailer                  http.Header
}

func newRecorder(t testing.TB) *recorder {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{ln: ln, scripts: map[string]script{}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go rec.serve(c)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return rec
}

func (rec *recorder) addr() string { return rec.ln.Addr().String() }

func (rec *recorder) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		body, _ := io.ReadAll(req.Body)
		if req.URL.Path == balancer.PingPath {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}")
			continue
		}
		rec.mu.Lock()
		rec.got = append(rec.got, received{req.Method, req.RequestURI, req.Proto, req.Host, req.Header, string(body), req.Trailer})
		name, _, _ := strings.Cut(strings.TrimPrefix(req.URL.Path, "/diff/"), "/")
		sc, ok := rec.scripts[name]
		rec.mu.Unlock()
		if !ok {
			sc = script{raw: "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"}
		}
		if _, err := io.WriteString(c, sc.raw); err != nil || sc.close {
			return
		}
	}
}

// take returns and forgets what the node received.
func (rec *recorder) take() []received {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	got := rec.got
	rec.got = nil
	return got
}

// answer is what a client of the front door received.
type answer struct {
	Interim []string // "103 Link: …" for each 1xx
	Status  int
	Proto   string
	Header  http.Header
	Body    string
	Trailer http.Header
	Broken  bool // the body ended in an error (cut off)
}

// send writes raw to the front door at addr and reads the answer.
func send(t *testing.T, addr, raw, method string) answer {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, strings.ReplaceAll(raw, "FRONT", addr)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var a answer
	for {
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("reading the front door's answer: %v", err)
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != 101 {
			a.Interim = append(a.Interim, fmt.Sprintf("%d %v", resp.StatusCode, sortedHeader(resp.Header)))
			continue
		}
		body, err := io.ReadAll(resp.Body)
		a.Status, a.Proto, a.Header, a.Body, a.Broken = resp.StatusCode, resp.Proto, resp.Header, string(body), err != nil
		a.Trailer = resp.Trailer
		break
	}
	normalize(&a)
	return a
}

// normalize drops what differs between any two requests: the date, an
// AppError's request and error ids; and sorts announced trailer names.
func normalize(a *answer) {
	delete(a.Header, "Date")
	if strings.HasPrefix(a.Header.Get("Content-Type"), "application/json") && a.Status >= 500 {
		var e map[string]any
		if json.Unmarshal([]byte(a.Body), &e) == nil {
			delete(e, "detailed_error")
			delete(e, "request_id")
			delete(a.Header, "X-Request-Id")
			b, _ := json.Marshal(e)
			a.Body = string(b)
		}
	}
	if v := a.Header["Trailer"]; len(v) == 1 {
		// Announced trailer names come in map order.
		names := strings.Split(v[0], ", ")
		sort.Strings(names)
		a.Header["Trailer"] = []string{strings.Join(names, ", ")}
	}
}

func sortedHeader(h http.Header) string {
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range h {
			if !yield(k) {
				return
			}
		}
	})
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q ", k, h[k])
	}
	return b.String()
}

// diffCase is one request of the differential test.
type diffCase struct {
	name    string
	request string // raw, "FRONT" replaced by the front door's address
	method  string // for reading the answer (HEAD)
	node    script
	fail    bool // through the cluster whose nodes stay in after a failure
	h2      bool // also sent over HTTP/2 (no hop-by-hop tricks in it)
	// sniff: the node sends a body of unknown length without a
	// Content-Type. reverse_proxy's flush timer races its first write:
	// when the write wins, Go's server adds a sniffed Content-Type. The
	// hot path always flushes first; that field is not compared.
	sniff bool
}

func diffCases() []diffCase {
	get := func(name, extra string) string {
		return "GET /diff/" + name + " HTTP/1.1\r\nHost: FRONT\r\nUser-Agent: difftest\r\nAccept-Encoding: gzip\r\n" + extra + "\r\n"
	}
	ok := func(extra, body string) script {
		return script{raw: fmt.Sprintf("HTTP/1.1 200 OK\r\nDate: Sun, 22 Nov 2026 01:00:00 GMT\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s", extra, len(body), body)}
	}
	bigValue := strings.Repeat("v", 64<<10)
	bigRequestValue := strings.Repeat("r", 12<<10) // Caddy takes 16 KiB of request head
	return []diffCase{
		{name: "get", h2: true, request: get("get", ""), node: ok("X-Request-Id: r1\r\nX-Version-Id: 9.0\r\n", `{"status":"OK"}`)},
		{name: "query-and-escapes", h2: true, request: "GET /diff/query-and-escapes/a%2Fb/%7Euser?x=1&y=%20z&x=2 HTTP/1.1\r\nHost: FRONT\r\n\r\n", node: ok("", "q")},
		{name: "empty-query", request: "GET /diff/empty-query? HTTP/1.1\r\nHost: FRONT\r\n\r\n", node: ok("", "q")},
		{name: "absolute-form", request: "GET http://FRONT/diff/absolute-form?a=b HTTP/1.1\r\nHost: FRONT\r\n\r\n", node: ok("", "abs")},
		{name: "no-user-agent", request: "GET /diff/no-user-agent HTTP/1.1\r\nHost: FRONT\r\nAccept: */*\r\n\r\n", node: ok("", "ua")},
		{name: "head", h2: true, request: "HEAD /diff/head HTTP/1.1\r\nHost: FRONT\r\n\r\n", method: "HEAD", node: script{raw: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1234\r\n\r\n"}},
		{name: "head-chunked", request: "HEAD /diff/head-chunked HTTP/1.1\r\nHost: FRONT\r\n\r\n", method: "HEAD", node: script{raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"}},
		{name: "no-content", h2: true, request: "DELETE /diff/no-content HTTP/1.1\r\nHost: FRONT\r\n\r\n", node: script{raw: "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n"}},
		{name: "not-modified", h2: true, request: get("not-modified", "If-None-Match: \"v1\"\r\n"), node: script{raw: "HTTP/1.1 304 Not Modified\r\nEtag: \"v1\"\r\nCache-Control: max-age=60\r\n\r\n"}},
		{name: "chunked", h2: true, request: get("chunked", ""), node: script{raw: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n[1, \r\n3\r\n2, \r\n2\r\n3]\r\n0\r\n\r\n"}},
		{name: "chunked-big", h2: true, sniff: true, request: get("chunked-big", ""), node: script{raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + fmt.Sprintf("%x\r\n%s\r\n", 40000, strings.Repeat("b", 40000)) + "0\r\n\r\n"}},
		{name: "length-big", h2: true, request: get("length-big", ""), node: ok("", strings.Repeat("L", 100<<10))},
		{name: "trailers-declared", h2: true, sniff: true, request: get("trailers-declared", "Te: trailers\r\n"), node: script{raw: "HTTP/1.1 200 OK\r\nTrailer: X-Checksum, X-Count\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Checksum: 42\r\nX-Count: 5\r\n\r\n"}},
		{name: "trailers-undeclared", h2: true, sniff: true, request: get("trailers-undeclared", ""), node: script{raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Late: yes\r\n\r\n"}},
		{name: "close-delimited", request: get("close-delimited", ""), node: script{raw: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the connection ends", close: true}},
		{name: "http10-node", request: get("http10-node", ""), node: script{raw: "HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nold!", close: true}},
		{name: "early-hints", h2: true, request: get("early-hints", ""), node: script{raw: "HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}},
		{name: "continue", request: "POST /diff/continue HTTP/1.1\r\nHost: FRONT\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n", node: script{raw: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"}},
		{name: "node-connection-close", request: get("node-connection-close", ""), node: script{raw: "HTTP/1.1 200 OK\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\nContent-Length: 1\r\n\r\nx", close: true}},
		{name: "node-hop-by-hop", h2: true, request: get("node-hop-by-hop", ""), node: script{raw: "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: timeout=5\r\nX-Hop: 1\r\nAlt-Svc: h3=\":443\"\r\nProxy-Authenticate: Basic\r\nUpgrade: h2c\r\nX-End: 2\r\nContent-Length: 1\r\n\r\nx"}},
		{name: "node-sets-frame-options", h2: true, request: get("node-sets-frame-options", ""), node: ok("X-Frame-Options: DENY\r\nVia: 1.1 other\r\nServer: node\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n", "{}")},
		{name: "client-hop-by-hop", request: get("client-hop-by-hop", "Connection: keep-alive, X-Private, Te\r\nX-Private: secret\r\nKeep-Alive: 300\r\nProxy-Authorization: Basic eA==\r\nProxy-Connection: keep-alive\r\nTe: trailers\r\nUpgrade: h2c\r\nAlt-Svc: clear\r\n"), node: ok("", "h")},
		{name: "client-te-trailers", request: get("client-te-trailers", "Te: gzip, trailers\r\nTrailer: X-No\r\n"), node: ok("", "t")},
		{name: "client-connection-lists-forwarded", request: get("client-connection-lists-forwarded", "Connection: X-Forwarded-For, User-Agent, Accept-Encoding\r\nX-Forwarded-For: 10.1.1.1\r\n"), node: ok("", "f")},
		{name: "client-forwarded-spoof", h2: true, request: get("client-forwarded-spoof", "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 7.7.7.7\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\nX-Real-Ip: 6.6.6.6\r\nX-Frame-Options: ALLOWALL\r\nVia: 1.0 client-proxy\r\n"), node: ok("", "s")},
		{name: "http10-client-no-host", request: "GET /diff/http10-client-no-host HTTP/1.0\r\nUser-Agent: old\r\n\r\n", node: ok("", "10")},
		{name: "options-star", request: "OPTIONS * HTTP/1.1\r\nHost: FRONT\r\n\r\n", node: ok("", "")},
		{name: "bodiless-post-put-patch", request: "PUT /diff/bodiless-post-put-patch HTTP/1.1\r\nHost: FRONT\r\nContent-Length: 0\r\nIdempotency-Key: k1\r\n\r\n", node: ok("", "p")},
		{name: "no-accept-encoding-gzip-answer", h2: true, sniff: true, request: "GET /diff/no-accept-encoding-gzip-answer HTTP/1.1\r\nHost: FRONT\r\n\r\n", node: script{raw: "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + fmt.Sprint(len(gzipped("hello gzip"))) + "\r\n\r\n" + gzipped("hello gzip")}},
		{name: "range-no-gzip", request: "GET /diff/range-no-gzip HTTP/1.1\r\nHost: FRONT\r\nRange: bytes=0-1\r\n\r\n", node: script{raw: "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-1/10\r\nContent-Length: 2\r\n\r\nab"}},
		{name: "huge-request-header", request: get("huge-request-header", "X-Big: "+bigRequestValue+"\r\n"), node: ok("", "big")},
		{name: "huge-response-header", h2: true, request: get("huge-response-header", ""), node: ok("X-Big: "+bigValue+"\r\nx-lower: case\r\n", "big")},
		{name: "odd-response-head", request: get("odd-response-head", ""), node: script{raw: "HTTP/1.1  200  Fine\r\ncontent-type: text/plain\r\nX-Spaced:   v  \r\nX-Folded: a\r\n b\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"}},
		{name: "event-stream", h2: true, request: get("event-stream", "Accept: text/event-stream\r\n"), node: script{raw: "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 12\r\n\r\ndata: hi\n\n\n\n"}},
		{name: "websocket-path-plain-get", request: get("websocket-path-plain-get", "Upgrade: websocket\r\n"), node: ok("", "no upgrade asked")},
		// Failures: through a cluster whose node stays in, so one failure
		// does not change the next case.
		{name: "cut-mid-body", h2: true, request: get("cut-mid-body", ""), node: script{raw: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b", close: true}, fail: true},
		{name: "cut-mid-chunk", sniff: true, request: get("cut-mid-chunk", ""), node: script{raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nonly", close: true}, fail: true},
		{name: "closed-before-answer", h2: true, request: "POST /diff/closed-before-answer HTTP/1.1\r\nHost: FRONT\r\nContent-Length: 0\r\n\r\n", node: script{raw: "", close: true}, fail: true},
		{name: "garbage-answer", request: "DELETE /diff/garbage-answer HTTP/1.1\r\nHost: FRONT\r\n\r\n", node: script{raw: "SMTP ready\r\n\r\n", close: true}, fail: true},
		{name: "bad-length", request: "POST /diff/bad-length HTTP/1.1\r\nHost: FRONT\r\nContent-Length: 0\r\n\r\n", node: script{raw: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", close: true}, fail: true},
		{name: "response-head-over-10MiB", request: "POST /diff/response-head-over-10MiB HTTP/1.1\r\nHost: FRONT\r\nContent-Length: 0\r\n\r\n", node: script{raw: "HTTP/1.1 200 OK\r\nX-Huge: " + strings.Repeat("h", 11<<20) + "\r\nContent-Length: 0\r\n\r\n", close: true}, fail: true},
		{name: "switching-without-upgrade", request: "POST /diff/switching-without-upgrade HTTP/1.1\r\nHost: FRONT\r\nContent-Length: 0\r\n\r\n", node: script{raw: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: other\r\nConnection: Upgrade\r\n\r\n", close: true}, fail: true},
	}
}

// loadDiffConfig loads one Caddy config with four sites on one node: the
// chorus directive as is (hot path), the same with the hot path removed
// (plain reverse_proxy), and both again for a cluster whose node stays in
// after failures. trusted makes the client a trusted proxy; h2c lets
// clients speak HTTP/2 without TLS.
func loadDiffConfig(t *testing.T, node string, trusted, h2c bool) (hot, plain, hotFail, plainFail string) {
	hot, plain, hotFail, plainFail = freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	servers := ""
	if trusted {
		servers = "\tservers {\n\t\ttrusted_proxies static private_ranges\n\t}\n"
	}
	if h2c {
		servers = "\tservers {\n\t\tprotocols h1 h2c\n\t}\n"
	}
	site := func(addr, cluster, extra string) string {
		return fmt.Sprintf("http://:%s {\n\tbind 127.0.0.1\n\tchorus %s {\n\t\tcluster %s\n\t\thealth_interval 50ms\n\t\thealth_passes 1\n\t\tslow_start 0s\n\t\ttry_duration 1s\n%s\t}\n}\n", port(addr), node, cluster, extra)
	}
	src := "{\n\tadmin off\n\tpersist_config off\n\tlog {\n\t\tlevel ERROR\n\t}\n" + servers + "}\n" +
		site(hot, "diff", "") + site(plain, "diff", "") +
		site(hotFail, "difffail", "\t\tpassive_fails 1000\n") + site(plainFail, "difffail", "\t\tpassive_fails 1000\n")
	raw, err := adapt(t, "Caddyfile", src)
	if err != nil {
		t.Fatalf("adapt: %v\n%s", err, src)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	servs := cfg["apps"].(map[string]any)["http"].(map[string]any)["servers"].(map[string]any)
	removed := 0
	for _, s := range servs {
		srv := s.(map[string]any)
		listen := fmt.Sprint(srv["listen"])
		_, p1, _ := net.SplitHostPort(plain)
		_, p2, _ := net.SplitHostPort(plainFail)
		if strings.Contains(listen, ":"+p1+"]") || strings.Contains(listen, ":"+p2+"]") {
			removed += dropHandler(srv, "chorus_proxy")
		}
	}
	if removed != 2 {
		t.Fatalf("removed %d chorus_proxy handlers; want 2", removed)
	}
	raw, _ = json.Marshal(cfg)
	if err := caddy.Load(raw, true); err != nil {
		t.Fatalf("load: %v", err)
	}
	t.Cleanup(func() { _ = caddy.Stop() })
	for _, name := range []string{"diff", "difffail"} {
		waitUntil(t, "node active in "+name, func() bool {
			c := lookupCluster(name)
			return c != nil && c.pool.Load() != nil && len(c.pool.Load().Active()) == 1
		})
	}
	return hot, plain, hotFail, plainFail
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// dropHandler removes every handler object named name under v.
func dropHandler(v any, name string) int {
	n := 0
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if list, ok := e.([]any); ok {
				kept := list[:0]
				for _, item := range list {
					if m, ok := item.(map[string]any); ok && m["handler"] == name {
						n++
						continue
					}
					kept = append(kept, item)
				}
				x[k] = kept
			}
			n += dropHandler(x[k], name)
		}
	case []any:
		for _, e := range x {
			n += dropHandler(e, name)
		}
	}
	return n
}

// TestHotPathMatchesReverseProxy sends a table of requests through the
// hot path and through plain reverse_proxy (the same chorus config
// without its chorus_proxy handler) to a node that records what it
// receives and answers with scripted bytes: methods, HEAD, 1xx, 204/304,
// chunked bodies, trailers, close-delimited bodies, Connection tricks
// both ways, forwarded fields spoofed, huge heads, gzip, and nodes that
// close mid-answer or answer garbage. What the node receives and what the
// client receives must be the same both ways, with untrusted and with
// trusted clients.
func TestHotPathMatchesReverseProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Caddy")
	}
	h2 := &http.Client{Transport: &http.Transport{Protocols: h2cOnly(), DisableCompression: true}, Timeout: 20 * time.Second}
	defer h2.CloseIdleConnections()
	for _, mode := range []struct {
		name         string
		trusted, h2c bool
	}{
		{"HTTP/1.1", false, false},
		{"HTTP/1.1 from a trusted proxy", true, false},
		{"HTTP/2 (h2c)", false, true},
	} {
		t.Run(mode.name, func(t *testing.T) {
			rec := newRecorder(t)
			cases := diffCases()
			for _, c := range cases {
				rec.scripts[c.name] = c.node
			}
			hot, plain, hotFail, plainFail := loadDiffConfig(t, rec.addr(), mode.trusted, mode.h2c)
			for _, c := range cases {
				if mode.h2c && !c.h2 {
					continue
				}
				t.Run(c.name, func(t *testing.T) {
					method := c.method
					if method == "" {
						method = http.MethodGet
					}
					a, b := hot, plain
					if c.fail {
						a, b = hotFail, plainFail
					}
					do := func(addr string) answer { return send(t, addr, c.request, method) }
					if mode.h2c {
						do = func(addr string) answer { return sendH2(t, h2, addr, c.request) }
					}
					rec.take()
					viaHot := do(a)
					gotHot := unaddress(rec.take(), a)
					viaPlain := do(b)
					gotPlain := unaddress(rec.take(), b)
					if c.sniff {
						for _, a := range []*answer{&viaHot, &viaPlain} {
							if a.Header.Get("Content-Type") == "text/plain; charset=utf-8" {
								delete(a.Header, "Content-Type")
							}
						}
					}
					if !reflect.DeepEqual(gotHot, gotPlain) {
						t.Errorf("the node received\n hot path: %s\n reverse_proxy: %s", dumpReceived(gotHot), dumpReceived(gotPlain))
					}
					if !reflect.DeepEqual(viaHot, viaPlain) {
						t.Errorf("the client received\n hot path: %s\n reverse_proxy: %s", dumpAnswer(viaHot), dumpAnswer(viaPlain))
					}
					if t.Failed() {
						return
					}
					if len(gotHot) == 0 && c.name != "options-star" {
						t.Errorf("the node received nothing")
					}
					if testing.Verbose() {
						t.Logf("client: %s", truncate(dumpAnswer(viaHot)))
					}
				})
			}
		})
	}
}

func h2cOnly() *http.Protocols {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &p
}

// sendH2 sends the raw request's method, target and fields over HTTP/2
// (h2c) and reads the answer, 1xx included.
func sendH2(t *testing.T, client *http.Client, addr, raw string) answer {
	t.Helper()
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(strings.ReplaceAll(raw, "FRONT", addr))))
	if err != nil {
		t.Fatalf("parsing the case's request: %v", err)
	}
	req.RequestURI, req.URL.Scheme, req.URL.Host = "", "http", addr
	var a answer
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		a.Interim = append(a.Interim, fmt.Sprintf("%d %v", code, sortedHeader(http.Header(h))))
		return nil
	}}
	req = req.WithContext(httptrace.WithClientTrace(context.Background(), trace))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s over h2c: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	a.Status, a.Proto, a.Header, a.Body, a.Broken, a.Trailer = resp.StatusCode, resp.Proto, resp.Header, string(body), err != nil, resp.Trailer
	normalize(&a)
	return a
}

// unaddress writes the front door's address as FRONT in what the node
// received, so the two front doors' requests compare.
func unaddress(rs []received, front string) []received {
	for i := range rs {
		rs[i].Host = strings.ReplaceAll(rs[i].Host, front, "FRONT")
		for k, vs := range rs[i].Header {
			for j := range vs {
				vs[j] = strings.ReplaceAll(vs[j], front, "FRONT")
			}
			rs[i].Header[k] = vs
		}
	}
	return rs
}

func dumpAnswer(a answer) string {
	return fmt.Sprintf("%d %s broken=%v interim=%v\n  header: %s\n  trailer: %v\n  body: %q", a.Status, a.Proto, a.Broken, a.Interim, truncate(sortedHeader(a.Header)), a.Trailer, truncate(a.Body))
}

func dumpReceived(rs []received) string {
	var b bytes.Buffer
	for _, r := range rs {
		fmt.Fprintf(&b, "\n  %s %s %s Host=%q body=%q trailer=%v\n  %s", r.Method, r.URI, r.Proto, r.Host, truncate(r.Body), r.Trailer, truncate(sortedHeader(r.Header)))
	}
	return b.String()
}

func truncate(s string) string {
	if len(s) > 300 {
		return s[:300] + fmt.Sprintf("…(%d bytes)", len(s))
	}
	return s
}

// gzipped returns s gzip-compressed.
func gzipped(s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, s)
	zw.Close()
	return b.String()
}
