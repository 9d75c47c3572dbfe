package balancer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// H1Options configure an [H1Client]. Zero fields take the defaults.
type H1Options struct {
	// DialTimeout bounds connecting to a node. Default 30s (the HA
	// guide's proxy_connect_timeout).
	DialTimeout time.Duration
	// Timeout bounds sending a request and reading the head of its
	// answer, as one deadline per round trip, and then each wait for more
	// of the body. Default 90s (proxy_read_timeout). Lower: a hung node
	// costs a client less, a slow request is cut sooner.
	Timeout time.Duration
	// MaxIdle is the number of idle connections kept per node. Default
	// 256 (the HA guide's keepalive). Size it to the peak number of
	// requests in flight to one node: below that, connections are closed
	// and dialled again under load.
	MaxIdle int
	// IdleTimeout closes a connection idle this long. Default 2m, as
	// Caddy's transport.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the head of an answer (each interim answer's
	// on its own). Default 10 MiB, Go's transport's.
	MaxHeaderBytes int64
}

func (o H1Options) withDefaults() H1Options {
	if o.DialTimeout <= 0 {
		o.DialTimeout = 30 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 90 * time.Second
	}
	if o.MaxIdle <= 0 {
		o.MaxIdle = 256
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 2 * time.Minute
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = 10 << 20
	}
	return o
}

// H1Client is an HTTP/1.1 client to the app nodes that runs each round
// trip on the caller's goroutine: it writes the request head with one
// write, reads and parses the answer's head in place, and lets the caller
// read the body; the connection returns to its node's pool of idle
// connections when the body has been read to its end. There is no
// goroutine per connection and no channel between a reader and a writer,
// which is where Go's http.Transport spends a third of a proxied
// request's CPU. It sends only bodiless requests.
//
// It is safe for concurrent use. Close it to close its idle connections.
type H1Client struct {
	opts   H1Options
	dialer net.Dialer

	pools sync.Map // node address → *idlePool

	reaper    sync.Once
	closeOnce sync.Once
	done      chan struct{} // closed by Close
}

// NewH1Client returns a client with opts.
func NewH1Client(opts H1Options) *H1Client {
	opts = opts.withDefaults()
	return &H1Client{
		opts:   opts,
		dialer: net.Dialer{Timeout: opts.DialTimeout, KeepAlive: 30 * time.Second},
		done:   make(chan struct{}),
	}
}

// Options returns the client's settings, defaults filled in.
func (c *H1Client) Options() H1Options { return c.opts }

// H1Request is a request for [H1Client.RoundTrip].
type H1Request struct {
	// Head is the whole request head, request line to empty line
	// ([AppendRequestHead] writes it). The client does not keep it.
	Head []byte
	// Method is the request's method: the answer to HEAD has no body.
	Method string
	// Replayable says the request may be sent again on a new connection
	// when a reused one turns out closed by the node before any answer
	// ([Replayable]). Otherwise a reused connection is checked before it
	// is used.
	Replayable bool
	// Interim, if not nil, is called with each interim (1xx but 101)
	// answer's head before the final one is read.
	Interim func(res *H1Response)
}

// DialError is a failure to connect to a node: nothing was sent, so any
// request may be tried on another node.
type DialError struct {
	Addr string
	Err  error
}

func (e *DialError) Error() string { return fmt.Sprintf("dialing %s: %v", e.Addr, e.Err) }
func (e *DialError) Unwrap() error { return e.Err }

// ErrHeadTooLarge is returned when an answer's head exceeds
// MaxHeaderBytes.
var ErrHeadTooLarge = errors.New("balancer: node's response head too large")

// abortGrace is how long a round trip waits on a node before it watches
// the request's context: a fast answer never pays for the watch, and a
// client that left is noticed at most this late.
const abortGrace = 50 * time.Millisecond

// RoundTrip sends req to the node at addr and reads the head of its
// answer into res (interim answers go to req.Interim); the caller reads
// the body from res and must Close it. A reused connection that the node
// had closed is replaced by a new one, once, for a replayable request.
// Cancelling ctx aborts the round trip and the body's reads (the error is
// then ctx's). A failure to connect is a *[DialError]; a node too slow is
// a net.Error whose Timeout is true.
func (c *H1Client) RoundTrip(ctx context.Context, addr string, req *H1Request, res *H1Response) error {
	res.client = c
	res.abort.reset(ctx)
	start := time.Now()
	conn, err := c.get(ctx, addr, req.Replayable, start)
	if err != nil {
		return err
	}
	err = c.exchange(conn, req, res, start)
	if err != nil && conn.uses > 0 && conn.src.got == 0 && req.Replayable && ctx.Err() == nil && !isTimeout(err) {
		// The node closed the idle connection as we sent on it (Go's
		// transport retries the same way).
		if conn, err = c.dial(ctx, addr); err != nil {
			return err
		}
		err = c.exchange(conn, req, res, start)
	}
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// exchange sends req on conn and reads the final answer's head. On error
// conn is closed.
func (c *H1Client) exchange(conn *h1Conn, req *H1Request, res *H1Response, start time.Time) error {
	res.conn = conn
	conn.src.got = 0
	deadline := start.Add(c.opts.Timeout)
	res.abort.deadline = deadline
	// (The context is not asked for its Done channel here: a server's
	// request context makes it on the first call.)
	first := deadline
	if start.Add(abortGrace).Before(deadline) {
		first = start.Add(abortGrace)
	} else {
		res.abort.watch(conn)
	}
	_ = conn.nc.SetDeadline(first)
	conn.readDeadline = first
	head := req.Head
	for len(head) > 0 {
		n, err := conn.nc.Write(head)
		head = head[n:]
		if err != nil {
			if isTimeout(err) && res.abort.slow(conn) {
				continue
			}
			return res.fail(fmt.Errorf("sending the request to %s: %w", conn.addr, err))
		}
	}
	for {
		conn.src.limit = c.opts.MaxHeaderBytes
		err := res.readHead(conn.br, req.Method)
		for err != nil && isTimeout(err) && res.std == nil && res.abort.slow(conn) {
			err = res.readHead(conn.br, req.Method)
		}
		if err != nil {
			return res.fail(fmt.Errorf("reading the response of %s: %w", conn.addr, err))
		}
		if !res.Interim() {
			break
		}
		if req.Interim != nil {
			req.Interim(res)
		}
	}
	conn.src.limit = -1
	conn.uses++
	return nil
}

// fail closes the connection of a failed round trip and returns err.
func (res *H1Response) fail(err error) error {
	res.abort.stop()
	if res.conn != nil {
		res.conn.close()
		res.conn = nil
	}
	if res.abort.ctx != nil && res.abort.ctx.Err() != nil {
		return res.abort.ctx.Err()
	}
	return err
}

// ready prepares the connection for a read of the body that may wait on
// the node: a fresh deadline (Timeout per wait, as Caddy's read_timeout;
// the head's may have been the short grace) and, before a wait, the
// context watch. A length- or close-delimited read served from the buffer
// needs neither; a chunked one may read a line past it.
func (res *H1Response) ready() {
	conn := res.conn
	if conn == nil {
		return
	}
	buffered := res.br.Buffered() > 0
	if buffered && (res.framing == lengthBody || res.framing == closeBody) {
		return
	}
	if !buffered {
		res.abort.watch(conn)
	}
	now := time.Now()
	if conn.readDeadline.Sub(now) < res.client.opts.Timeout-time.Second {
		conn.readDeadline = now.Add(res.client.opts.Timeout)
		_ = conn.nc.SetReadDeadline(conn.readDeadline)
	}
}

// readError is the error of a failed body read: the context's when it
// was cancelled.
func (res *H1Response) readError(err error) error {
	if res.abort.ctx != nil && res.abort.ctx.Err() != nil {
		return res.abort.ctx.Err()
	}
	if res.conn != nil {
		return fmt.Errorf("reading the response body of %s: %w", res.conn.addr, err)
	}
	return err
}

// Close ends the answer: the connection goes back to the pool if the body
// was read to its end and the node keeps it open, and is closed
// otherwise. Close is safe to call more than once.
func (res *H1Response) Close() {
	conn := res.conn
	if conn == nil {
		return
	}
	res.conn = nil
	res.std, res.chunked = nil, nil
	stopped := res.abort.stop()
	done := res.eof || res.framing == noBody || (res.framing == lengthBody && res.remaining == 0)
	// A 101 switched the connection to another protocol: never reused.
	if !done || !stopped || res.Closing || res.err != nil || res.StatusCode < 200 || conn.br.Buffered() > 0 {
		conn.close()
		return
	}
	res.client.put(conn)
}

// abortState watches a round trip's context: once watched, cancelling it
// makes the connection's reads and writes fail at once.
type abortState struct {
	ctx      context.Context
	deadline time.Time              // the round trip's deadline
	conn     atomic.Pointer[h1Conn] // the connection watched; read by cancel on another goroutine
	stopFn   func() bool            // context.AfterFunc's stop; nil when not watching
	fire     func()                 // bound once to cancel, so watching allocates no closure
}

func (a *abortState) reset(ctx context.Context) {
	a.ctx, a.stopFn = ctx, nil
}

// watch starts watching the context for conn, once per round trip.
func (a *abortState) watch(conn *h1Conn) {
	if a.stopFn != nil || a.ctx == nil {
		return
	}
	if a.fire == nil {
		a.fire = a.cancel
	}
	a.conn.Store(conn)
	a.stopFn = context.AfterFunc(a.ctx, a.fire)
}

// cancel runs on the context's cancellation.
func (a *abortState) cancel() {
	if c := a.conn.Load(); c != nil {
		_ = c.nc.SetDeadline(aLongTimeAgo)
	}
}

// slow is called when the grace deadline passed: it starts the watch and
// sets the round trip's own deadline. false: that deadline has passed
// too.
func (a *abortState) slow(conn *h1Conn) bool {
	if a.stopFn != nil || !time.Now().Before(a.deadline) {
		return false
	}
	a.watch(conn)
	if a.ctx.Err() != nil {
		return false
	}
	_ = conn.nc.SetDeadline(a.deadline)
	conn.readDeadline = a.deadline
	return true
}

// stop ends the watch; false if the cancellation already ran (the
// connection's deadline is then spoilt).
func (a *abortState) stop() bool {
	if a.stopFn == nil {
		return true
	}
	ok := a.stopFn()
	a.stopFn = nil
	return ok
}

var aLongTimeAgo = time.Unix(1, 0)

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// h1Conn is one connection to a node.
type h1Conn struct {
	nc           net.Conn
	addr         string
	src          countingConn
	br           *bufio.Reader
	idleSince    time.Time // when it was last put back
	readDeadline time.Time // the read deadline last set
	uses         int       // round trips done
}

// countingConn reads from the connection, counting the bytes of one
// round trip and refusing to read past a head's limit.
type countingConn struct {
	nc    net.Conn
	got   int64 // bytes read in this round trip
	limit int64 // bytes the head may still take; < 0: no limit
}

func (s *countingConn) Read(p []byte) (int, error) {
	if s.limit == 0 {
		return 0, ErrHeadTooLarge
	}
	if s.limit > 0 && int64(len(p)) > s.limit {
		p = p[:s.limit]
	}
	n, err := s.nc.Read(p)
	s.got += int64(n)
	if s.limit > 0 {
		s.limit -= int64(n)
	}
	return n, err
}

func (conn *h1Conn) close() { _ = conn.nc.Close() }

// idlePool is one node's idle connections, a stack: the most recently
// used on top, so the ones at the bottom age and are closed.
type idlePool struct {
	mu    sync.Mutex // guards conns
	conns []*h1Conn
}

// get returns an idle connection to addr, or dials one.
func (c *H1Client) get(ctx context.Context, addr string, replayable bool, now time.Time) (*h1Conn, error) {
	if v, ok := c.pools.Load(addr); ok {
		p := v.(*idlePool)
		for {
			p.mu.Lock()
			n := len(p.conns)
			if n == 0 {
				p.mu.Unlock()
				break
			}
			conn := p.conns[n-1]
			p.conns[n-1] = nil
			p.conns = p.conns[:n-1]
			p.mu.Unlock()
			if now.Sub(conn.idleSince) >= c.opts.IdleTimeout || (!replayable && !alive(conn.nc)) {
				conn.close()
				continue
			}
			return conn, nil
		}
	}
	return c.dial(ctx, addr)
}

// dial connects to addr.
func (c *H1Client) dial(ctx context.Context, addr string) (*h1Conn, error) {
	nc, err := c.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &DialError{Addr: addr, Err: err}
	}
	conn := &h1Conn{nc: nc, addr: addr}
	conn.src.nc = nc
	conn.br = bufio.NewReaderSize(&conn.src, 4096)
	return conn, nil
}

// put returns conn to its node's idle pool, or closes it when the pool is
// full or the client closed.
func (c *H1Client) put(conn *h1Conn) {
	select {
	case <-c.done:
		conn.close()
		return
	default:
	}
	c.reaper.Do(func() { go c.reap() })
	v, ok := c.pools.Load(conn.addr)
	if !ok {
		v, _ = c.pools.LoadOrStore(conn.addr, &idlePool{})
	}
	p := v.(*idlePool)
	conn.idleSince = time.Now()
	var stale *h1Conn
	p.mu.Lock()
	if len(p.conns) >= c.opts.MaxIdle {
		p.mu.Unlock()
		conn.close()
		return
	}
	if len(p.conns) > 0 && conn.idleSince.Sub(p.conns[0].idleSince) >= c.opts.IdleTimeout {
		stale = p.conns[0]
		copy(p.conns, p.conns[1:])
		p.conns[len(p.conns)-1] = nil
		p.conns = p.conns[:len(p.conns)-1]
	}
	p.conns = append(p.conns, conn)
	p.mu.Unlock()
	if stale != nil {
		stale.close()
	}
}

// reap closes connections idle for IdleTimeout, every half of it, until
// the client is closed.
func (c *H1Client) reap() {
	t := time.NewTicker(max(c.opts.IdleTimeout/2, time.Second))
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case now := <-t.C:
			c.closeIdle(func(conn *h1Conn) bool { return now.Sub(conn.idleSince) >= c.opts.IdleTimeout })
		}
	}
}

// closeIdle closes the idle connections that match.
func (c *H1Client) closeIdle(match func(*h1Conn) bool) {
	c.pools.Range(func(_, v any) bool {
		p := v.(*idlePool)
		var closing []*h1Conn
		p.mu.Lock()
		kept := p.conns[:0]
		for _, conn := range p.conns {
			if match(conn) {
				closing = append(closing, conn)
			} else {
				kept = append(kept, conn)
			}
		}
		clear(p.conns[len(kept):])
		p.conns = kept
		p.mu.Unlock()
		for _, conn := range closing {
			conn.close()
		}
		return true
	})
}

// CloseIdle closes the idle connections to the node at addr (a node
// drained or removed).
func (c *H1Client) CloseIdle(addr string) {
	if v, ok := c.pools.Load(addr); ok {
		p := v.(*idlePool)
		p.mu.Lock()
		conns := p.conns
		p.conns = nil
		p.mu.Unlock()
		for _, conn := range conns {
			conn.close()
		}
	}
}

// Idle returns the number of idle connections to the node at addr.
func (c *H1Client) Idle(addr string) int {
	if v, ok := c.pools.Load(addr); ok {
		p := v.(*idlePool)
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.conns)
	}
	return 0
}

// Close closes every idle connection and stops the reaper; connections
// in use are closed when their answers are.
func (c *H1Client) Close() {
	c.closeOnce.Do(func() { close(c.done) })
	c.closeIdle(func(*h1Conn) bool { return true })
}

var _ io.Reader = (*H1Response)(nil)
