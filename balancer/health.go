package balancer

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Prober runs one active health probe: a GET of uri (a path and query) on
// the node at addr (host:port). It returns the HTTP status, or an error
// when no status came. Calls are concurrent, one per node at most; a call
// must return when ctx is done.
type Prober interface {
	Probe(ctx context.Context, addr, uri string) (status int, err error)
}

// ProberFunc adapts a function to [Prober].
type ProberFunc func(ctx context.Context, addr, uri string) (int, error)

// Probe calls f.
func (f ProberFunc) Probe(ctx context.Context, addr, uri string) (int, error) {
	return f(ctx, addr, uri)
}

// HTTPProber probes over plain HTTP, as the nodes are reached (see
// [ParseNode]).
type HTTPProber struct {
	Client *http.Client
}

// NewHTTPProber returns an HTTPProber whose client keeps one idle
// connection per node and never follows redirects (a redirect is not 200).
func NewHTTPProber() *HTTPProber {
	return &HTTPProber{Client: &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: 1, IdleConnTimeout: time.Minute, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// Probe GETs http://addr+uri and returns the status. It reads at most 64
// KiB of the body so the connection can be reused.
func (h *HTTPProber) Probe(ctx context.Context, addr, uri string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+uri, nil)
	if err != nil {
		return 0, fmt.Errorf("probing %s: %w", addr, err)
	}
	req.Header.Set("User-Agent", "chorus-front-door")
	resp, err := h.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("probing %s: %w", addr, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// checker is a pool's one active health checker: it probes every node each
// HealthInterval, and a node just added at once.
type checker struct {
	p      *Pool
	ctx    context.Context // cancelled by stop; bounds every probe
	cancel context.CancelFunc
	timer  Timer // the next round; guarded by p.mu
}

func newChecker(p *Pool) *checker {
	ctx, cancel := context.WithCancel(context.Background())
	return &checker{p: p, ctx: ctx, cancel: cancel}
}

// start probes every node now and schedules the next round. p.mu is held.
func (c *checker) start() {
	c.roundLocked()
}

// stop cancels running probes and the next round. p.mu is held.
func (c *checker) stop() {
	c.cancel()
	if c.timer != nil {
		c.timer.Stop()
	}
}

// round probes every node and schedules the next round.
func (c *checker) round() {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	if c.ctx.Err() != nil {
		return
	}
	c.roundLocked()
}

func (c *checker) roundLocked() {
	for _, n := range c.p.nodes {
		c.probeSoon(n)
	}
	c.timer = c.p.clock.AfterFunc(c.p.cfg.Load().HealthInterval, c.round)
}

// probeSoon starts a probe of n unless one is running. p.mu is held.
func (c *checker) probeSoon(n *Node) {
	if n.probing || c.ctx.Err() != nil {
		return
	}
	n.probing = true
	go c.probe(n)
}

// probe runs one probe of n and reports it.
func (c *checker) probe(n *Node) {
	cfg := c.p.cfg.Load()
	ctx, cancel := context.WithTimeout(c.ctx, cfg.HealthTimeout)
	start := c.p.clock.Now()
	status, err := c.p.prober.Probe(ctx, n.addr, cfg.ProbeURI())
	latency := c.p.clock.Now().Sub(start)
	cancel()
	if c.ctx.Err() != nil {
		c.p.mu.Lock()
		n.probing = false
		c.p.mu.Unlock()
		return
	}
	c.p.reportProbe(n, status, err, latency)
}

// reportProbe applies one probe's outcome to n: 200 passes; 503 passes
// and announces a drain (the node is alive but going away); anything else
// fails. A joining node becomes active on its first pass, an unhealthy one
// after HealthPasses in a row; an active one is unhealthy after HealthFails
// in a row. A node-announced drain ends when the ping answers 200 again.
func (p *Pool) reportProbe(n *Node, status int, err error, latency time.Duration) {
	cfg := p.cfg.Load()
	ok := err == nil && (status == http.StatusOK || status == http.StatusServiceUnavailable)
	probe := Probe{Cluster: cfg.Cluster, Node: n.addr, OK: ok, Status: status, Latency: latency}
	switch {
	case err != nil:
		probe.Err = err.Error()
	case !ok:
		probe.Err = fmt.Sprintf("status %d", status)
	}
	p.obs.Probed(probe)

	p.mu.Lock()
	defer p.mu.Unlock()
	n.probing = false
	n.lastCheck, n.lastLatency, n.lastStatus, n.lastErr = p.clock.Now(), latency, status, probe.Err
	if p.nodes[n.addr] != n {
		return // removed while probing
	}
	if ok {
		n.passes, n.fails = n.passes+1, 0
	} else {
		n.fails, n.passes = n.fails+1, 0
	}
	// The announcement first, so a joining node that answers 503 goes
	// straight to draining rather than through active.
	switch {
	case status == http.StatusServiceUnavailable && err == nil:
		p.drainLocked(n, DrainByNode, "node announced a drain (ping 503)")
	case status == http.StatusOK && err == nil && n.drainBy == DrainByNode:
		p.applyLocked(n, evUndrain, "node withdrew its drain (ping 200)")
	}
	switch {
	case ok && !n.healthy && (n.state == StateJoining || n.passes >= cfg.HealthPasses):
		n.healthy = true
		n.passiveFails.Store(0)
		p.applyLocked(n, evHealthy, fmt.Sprintf("%d probe(s) passed", n.passes))
	case !ok && n.healthy && n.fails >= cfg.HealthFails:
		n.healthy = false
		p.applyLocked(n, evUnhealthy, fmt.Sprintf("%d probe(s) failed: %s", n.fails, probe.Err))
	}
}
