package caddymodule

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/seed331fb32b/chorus/balancer"
)

func init() {
	caddy.RegisterModule(Proxy{})
}

// Proxy is the front door's hot path: it proxies the requests that make
// up a chat cluster's API traffic (bodiless requests: GET, HEAD, DELETE,
// bodiless POSTs…) to the cluster's active nodes itself, with the
// balancer's same-goroutine HTTP/1.1 client, and hands every other
// request (a body, an upgrade, CONNECT, a TLS early-data request, a
// non-ASCII Host) to the next handler, the route's reverse_proxy.
//
// For every request it takes, what the node receives and what the client
// receives are what Caddy's reverse_proxy with the chorus directive's
// settings gives (a differential test holds it to that): the same
// forwarded fields (X-Forwarded-For, -Proto, -Host with trusted proxies,
// X-Real-IP, X-Frame-Options, Via, Host), the same hop-by-hop rules, 1xx
// forwarded, trailers, HEAD, 204/304, gzip asked for and decoded when the
// client did not say what it accepts, and the same errors in Mattermost's
// AppError JSON through the subroute's error route: 502 when no node
// could answer, 504 when one was too slow, 503 when none is active.
//
// Every front-door feature holds on it: least-connections selection with
// slow start, drain and request counting (Node Begin/End), passive health
// (a failure to reach a node takes it out), retries (a request that could
// not be sent is tried on another node within try_duration; a GET also
// when the node failed before answering), and the chorus_* metrics. It
// sets no http.reverse_proxy.* placeholder.
//
// Module ID: http.handlers.chorus_proxy.
type Proxy struct {
	// Cluster names the cluster. Default "chorus".
	Cluster string `json:"cluster,omitempty"`
	// DialTimeout bounds connecting to a node. Default 30s.
	DialTimeout caddy.Duration `json:"dial_timeout,omitempty"`
	// ReadTimeout bounds sending a request and reading its answer's head
	// (one deadline per round trip), then each wait for the body.
	// Default 90s.
	ReadTimeout caddy.Duration `json:"read_timeout,omitempty"`
	// KeepAlive is the number of idle connections kept per node; size it
	// to the peak number of requests in flight to one node. Default 256.
	KeepAlive int `json:"keepalive,omitempty"`
	// TryDuration is how long a request is retried on other nodes (and
	// waits for an active node) before the client gets an error. Default
	// 0: no retry.
	TryDuration caddy.Duration `json:"try_duration,omitempty"`
	// TryInterval is the wait before trying every node again once all
	// failed. Default 250ms.
	TryInterval caddy.Duration `json:"try_interval,omitempty"`

	c        *cluster           // the shared cluster
	client   *balancer.H1Client // the connections to the nodes, this config's
	logger   *zap.Logger        // debug lines only when enabled
	set      []balancer.Field   // fixed request fields (header_up)
	states   *sync.Pool         // *proxyState
	interval time.Duration      // TryInterval, defaulted
}

// CaddyModule returns the Caddy module information.
func (Proxy) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.chorus_proxy",
		New: func() caddy.Module { return new(Proxy) },
	}
}

// Provision takes a reference to the cluster and makes the client.
func (h *Proxy) Provision(ctx caddy.Context) error {
	c, err := acquire(h.Cluster)
	if err != nil {
		return err
	}
	h.c = c
	h.setup(ctx.Logger())
	return nil
}

// setup makes the client and the per-request pool; c is set.
func (h *Proxy) setup(logger *zap.Logger) {
	h.logger = logger
	h.client = balancer.NewH1Client(balancer.H1Options{
		DialTimeout: time.Duration(h.DialTimeout),
		Timeout:     time.Duration(h.ReadTimeout),
		MaxIdle:     h.KeepAlive,
	})
	// The HA guide's proxy_set_header X-Frame-Options, as the
	// reverse_proxy of the same route sends it.
	h.set = []balancer.Field{{Key: "X-Frame-Options", Value: "SAMEORIGIN"}}
	h.interval = time.Duration(h.TryInterval)
	if h.interval <= 0 {
		h.interval = 250 * time.Millisecond
	}
	h.states = &sync.Pool{}
}

// Cleanup closes the idle connections and drops the cluster reference.
func (h *Proxy) Cleanup() error {
	if h.client != nil {
		h.client.Close()
	}
	if h.c == nil {
		return nil
	}
	return release(h.c.name)
}

// UnmarshalCaddyfile reads "chorus_proxy [<cluster>]".
func (h *Proxy) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the directive's name
	if d.NextArg() {
		h.Cluster = d.Val()
	}
	if d.NextArg() || d.NextBlock(0) {
		return d.ArgErr()
	}
	return nil
}

// hotPath is the chorus_proxy of cfg's default route: the settings of
// [proxyHandler]'s reverse_proxy behind it.
func hotPath(cfg balancer.Config) *Proxy {
	return &Proxy{
		Cluster:     cfg.Cluster,
		DialTimeout: caddy.Duration(cfg.DialTimeout),
		ReadTimeout: caddy.Duration(cfg.ReadTimeout),
		KeepAlive:   cfg.KeepAlive,
		TryDuration: caddy.Duration(cfg.TryDuration),
		TryInterval: caddy.Duration(250 * time.Millisecond),
	}
}

// proxyState is one request's working set, pooled: the request head
// buffer, the answer, the copy buffer and the closures bound to it.
type proxyState struct {
	head    []byte
	fwd     balancer.Forward
	req     balancer.H1Request
	res     balancer.H1Response
	tried   []*balancer.Node
	w       http.ResponseWriter // the client's, during a round trip (1xx)
	buf     [32 << 10]byte
	skipFn  func(string) bool
	gzipped bool // Content-Encoding and Content-Length are left out
}

func (h *Proxy) state() *proxyState {
	if st, ok := h.states.Get().(*proxyState); ok {
		return st
	}
	st := &proxyState{head: make([]byte, 0, 2048)}
	st.req.Interim = st.interim
	st.skipFn = st.skip
	return st
}

func (h *Proxy) putState(st *proxyState) {
	st.w = nil
	clear(st.tried)
	st.tried = st.tried[:0]
	if cap(st.head) > 64<<10 {
		st.head = make([]byte, 0, 2048)
	}
	h.states.Put(st)
}

// takes reports whether the hot path proxies r itself: a bodiless,
// non-upgrade HTTP/1.x or HTTP/2 request with an ASCII Host, sent after
// any TLS handshake completed.
func takes(r *http.Request) bool {
	if r.ContentLength != 0 || len(r.TransferEncoding) != 0 || r.Method == http.MethodConnect ||
		(r.ProtoMajor != 1 && r.ProtoMajor != 2) || (r.TLS != nil && !r.TLS.HandshakeComplete) {
		return false
	}
	if conn := r.Header["Connection"]; len(conn) > 0 && balancer.HasToken(conn, "upgrade") {
		return false
	}
	for i := 0; i < len(r.Host); i++ {
		if c := r.Host[i]; c >= 0x80 || c <= ' ' || c == '%' {
			return false
		}
	}
	return true
}

var errNoNode = errors.New("no upstreams available") // reverse_proxy's wording

// ServeHTTP proxies r to a node, or calls next for a request it leaves to
// reverse_proxy.
func (h *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if !takes(r) {
		return next.ServeHTTP(w, r)
	}
	st := h.state()
	defer h.putState(st)
	st.w = w
	trusted, _ := caddyhttp.GetVar(r.Context(), caddyhttp.TrustedProxyVarKey).(bool)
	st.fwd = balancer.Forward{Trusted: trusted, RealIP: true, Set: h.set, Via: "Caddy", Gzip: true}
	st.req.Method = r.Method
	st.req.Replayable = balancer.Replayable(r)

	ctx := r.Context()
	start := time.Now()
	var lastErr error
	for {
		var n *balancer.Node
		if p := h.c.pool.Load(); p != nil {
			n = p.Select(st.tried...)
		}
		if n == nil {
			// No node active, or every one tried: wait, then try them
			// all again, within try_duration.
			if lastErr == nil {
				lastErr = caddyhttp.Error(http.StatusServiceUnavailable, errNoNode)
			}
			if !h.again(r, start, lastErr) || !h.pause(r) {
				return proxyError(lastErr)
			}
			clear(st.tried)
			st.tried = st.tried[:0]
			continue
		}
		st.fwd.Node = n.Addr()
		var gz bool
		st.head, gz = balancer.AppendRequestHead(st.head[:0], r, &st.fwd)
		st.req.Head = st.head
		n.Begin()
		err := h.client.RoundTrip(ctx, n.Addr(), &st.req, &st.res)
		if err != nil {
			n.End()
			if ctx.Err() != nil {
				// The client left: not the node's failure (reverse_proxy
				// records 499 for the access log).
				w.WriteHeader(499)
				return nil
			}
			n.ReportFailure(err)
			if ce := h.logger.Check(zapcore.DebugLevel, "upstream roundtrip"); ce != nil {
				ce.Write(zap.String("upstream", n.Addr()), zap.Error(err))
			}
			lastErr = err
			if !h.again(r, start, err) {
				return proxyError(err)
			}
			st.tried = append(st.tried, n)
			continue
		}
		n.ReportSuccess()
		err = h.respond(w, r, st, gz)
		st.res.Close()
		n.End()
		if err == errAbort {
			// Headers are out: all that is left is to cut the client off,
			// as reverse_proxy does.
			panic(http.ErrAbortHandler)
		}
		return err
	}
}

// again reports whether to try again after err, by reverse_proxy's
// rules: within TryDuration, any request that could not be sent (no node
// active, a failed dial), and a GET whatever the failure.
func (h *Proxy) again(r *http.Request, start time.Time, err error) bool {
	if h.TryDuration <= 0 || time.Since(start) >= time.Duration(h.TryDuration) {
		return false
	}
	var he caddyhttp.HandlerError
	var de *balancer.DialError
	return r.Method == http.MethodGet || errors.As(err, &he) || errors.As(err, &de)
}

// pause waits TryInterval before every node is tried again; false if
// the client left meanwhile.
func (h *Proxy) pause(r *http.Request) bool {
	t := time.NewTimer(h.interval)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// proxyError maps a failure to the status reverse_proxy gives it.
func proxyError(err error) error {
	var he caddyhttp.HandlerError
	if errors.As(err, &he) {
		return err
	}
	status := http.StatusBadGateway
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		status = http.StatusGatewayTimeout
	}
	return caddyhttp.Error(status, err)
}

// errAbort says the answer broke after its head was sent.
var errAbort = errors.New("chorus: answer cut off")

const sseType = "text/event-stream"

// respond writes the node's answer to the client as reverse_proxy's
// finalizeResponse does.
func (h *Proxy) respond(w http.ResponseWriter, r *http.Request, st *proxyState, gz bool) error {
	res := &st.res
	if res.StatusCode == http.StatusSwitchingProtocols {
		// A switch nobody asked for: reverse_proxy refuses it by writing
		// nothing, so the client gets an empty 200.
		if ce := h.logger.Check(zapcore.DebugLevel, "node switched protocols unasked"); ce != nil {
			ce.Write(zap.String("upstream", st.fwd.Node))
		}
		return nil
	}
	st.gzipped = false
	var body io.Reader = res
	length := res.ContentLength
	if gz {
		if ce, _ := res.Field("Content-Encoding"); strings.EqualFold(ce, "gzip") {
			// Go's transport decodes what it asked for itself.
			st.gzipped = true
			length = -1
			body = &gzipBody{src: res}
		}
	}

	hdr := w.Header()
	delete(hdr, "Server")
	copyFields(hdr, viaValue(res.ProtoMajor, res.ProtoMinor), res, st.skipFn, h.set)
	if len(res.Declared) > 0 {
		hdr.Add("Trailer", strings.Join(res.Declared, ", "))
	}
	w.WriteHeader(res.StatusCode)

	// reverse_proxy's flush interval: at once for a body of unknown
	// length, Server-Sent Events and incremental answers; else none.
	flush := length == -1
	if !flush {
		ct, _ := res.Field("Content-Type")
		if len(ct) >= len(sseType) && strings.EqualFold(ct[:len(sseType)], sseType) {
			mt, _, err := mime.ParseMediaType(ct)
			flush = err == nil && mt == sseType
		}
	}
	if _, ok := res.Field("Incremental"); ok && !flush {
		inc := http.Header{}
		for _, f := range res.Fields {
			if f.Key == "Incremental" {
				inc.Add(f.Key, f.Value)
			}
		}
		flush = caddyhttp.IsIncremental(inc)
	}
	if flush && r.Method != http.MethodHead {
		// reverse_proxy's flush timer sends the head at once. (Its first
		// write sometimes wins that race, and the server then adds a
		// sniffed Content-Type the node never sent; here it never does.)
		flushWriter(w)
	}
	if r.Method != http.MethodHead {
		for {
			nr, rerr := body.Read(st.buf[:])
			if nr > 0 {
				nw, werr := w.Write(st.buf[:nr])
				if werr != nil || nw != nr {
					return h.abort(w, werr)
				}
				if flush {
					flushWriter(w)
				}
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				return h.abort(w, rerr)
			}
		}
	}
	if len(res.Declared) > 0 || len(res.Trailer) > 0 {
		// Trailers force chunked coding even on a short body.
		flushWriter(w)
	}
	if len(res.Trailer) > 0 {
		undeclared := false
		for _, f := range res.Trailer {
			undeclared = undeclared || !declared(res.Declared, f.Key)
		}
		for _, f := range res.Trailer {
			k := f.Key
			if undeclared {
				k = http.TrailerPrefix + k
			}
			hdr.Add(k, f.Value)
		}
	}
	return nil
}

// abort flushes what the client has and reports the broken answer.
func (h *Proxy) abort(w http.ResponseWriter, err error) error {
	if ce := h.logger.Check(zapcore.WarnLevel, "aborting with incomplete response"); ce != nil {
		ce.Write(zap.Error(err))
	}
	flushWriter(w)
	return errAbort
}

// flushWriter flushes w as http.ResponseController does (FlushError,
// then Flush, then the writer it wraps), without allocating one.
func flushWriter(w http.ResponseWriter) {
	for {
		switch t := w.(type) {
		case interface{ FlushError() error }:
			_ = t.FlushError()
			return
		case http.Flusher:
			t.Flush()
			return
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return
		}
	}
}

func declared(keys []string, k string) bool {
	for _, d := range keys {
		if d == k {
			return true
		}
	}
	return false
}

// skip leaves out of the client's answer the fields set by the handler
// (X-Frame-Options) and, for a body gzip-decoded here, its coding and
// length.
func (st *proxyState) skip(k string) bool {
	switch k {
	case "X-Frame-Options":
		return true
	case "Content-Encoding", "Content-Length":
		return st.gzipped
	}
	return false
}

// copyFields adds to hdr reverse_proxy's Via value, then res's
// end-to-end fields (after any values hdr has, as reverse_proxy's
// copyHeader), skipping what skip says, then the fixed fields of set. It
// allocates one slice for all the new keys' values.
func copyFields(hdr http.Header, via string, res *balancer.H1Response, skip func(string) bool, set []balancer.Field) {
	conn := false
	for _, f := range res.Fields {
		conn = conn || f.Key == "Connection"
	}
	var backing []string
	add := func(k, v string, left int) {
		if vs, ok := hdr[k]; ok {
			hdr[k] = append(vs, v)
			return
		}
		if len(backing) == 0 {
			backing = make([]string, left)
		}
		backing[0] = v
		hdr[k], backing = backing[:1:1], backing[1:]
	}
	add("Via", via, 1+len(res.Fields)+len(set))
	for i, f := range res.Fields {
		if skip(f.Key) || !endToEnd(res, f.Key, conn) {
			continue
		}
		add(f.Key, f.Value, len(res.Fields)-i+len(set))
	}
	for i, f := range set {
		add(f.Key, f.Value, len(set)-i)
	}
}

func endToEnd(res *balancer.H1Response, k string, conn bool) bool {
	if !conn {
		return !balancer.HopByHop(k)
	}
	return res.EndToEnd(k)
}

// interim forwards a 1xx answer (103 Early Hints, 100 Continue) to the
// client with its end-to-end fields, then restores the client's header,
// as reverse_proxy's Got1xxResponse hook does.
func (st *proxyState) interim(res *balancer.H1Response) {
	w := st.w
	if w == nil {
		return
	}
	h := w.Header()
	own := h.Clone()
	conn := false
	for _, f := range res.Fields {
		conn = conn || f.Key == "Connection"
	}
	for _, f := range res.Fields {
		if endToEnd(res, f.Key, conn) {
			h.Add(f.Key, f.Value)
		}
	}
	w.WriteHeader(res.StatusCode)
	clear(h)
	maps.Copy(h, own)
}

// viaValue is reverse_proxy's Via value for an answer in HTTP/major.minor.
func viaValue(major, minor int) string {
	if major == 1 && minor == 1 {
		return "1.1 Caddy"
	}
	if major == 1 && minor == 0 {
		return "1.0 Caddy"
	}
	return fmt.Sprintf("%d.%d Caddy", major, minor)
}

// gzipBody decodes a gzip body the client did not ask for, as Go's
// transport does (lazily, so an empty body is no error).
type gzipBody struct {
	src io.Reader
	zr  *gzip.Reader
	err error
}

func (g *gzipBody) Read(p []byte) (int, error) {
	if g.zr == nil {
		if g.err == nil {
			g.zr, g.err = gzip.NewReader(g.src)
		}
		if g.err != nil {
			return 0, g.err
		}
	}
	return g.zr.Read(p)
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*Proxy)(nil)
	_ caddy.CleanerUpper          = (*Proxy)(nil)
	_ caddyfile.Unmarshaler       = (*Proxy)(nil)
	_ caddyhttp.MiddlewareHandler = (*Proxy)(nil)
)
