package balancer

import "fmt"

// ReportFailure counts a failure of real traffic to reach n: a refused,
// reset or timed-out connection, not an error status. After PassiveFails
// in a row an active node is unhealthy at once, without waiting for the
// checker, and returns after HealthPasses passed probes. The caller leaves
// out failures that are the client's doing (a cancelled request).
func (n *Node) ReportFailure(err error) {
	p := n.pool
	cfg := p.cfg.Load()
	if int(n.passiveFails.Add(1)) < cfg.PassiveFails {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !n.healthy && n.state != StateActive {
		return
	}
	n.healthy, n.passes = false, 0
	p.applyLocked(n, evUnhealthy, fmt.Sprintf("%d request(s) failed: %v", n.passiveFails.Load(), err))
}

// ReportSuccess ends a run of failures counted by [Node.ReportFailure].
func (n *Node) ReportSuccess() {
	if n.passiveFails.Load() != 0 {
		n.passiveFails.Store(0)
	}
}
