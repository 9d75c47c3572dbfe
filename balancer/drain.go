package balancer

import "time"

// Who asks for a drain, as [NodeStatus.DrainBy] reports it.
const (
	DrainByAdmin  = "admin"  // the admin API: only an undrain ends it
	DrainByNode   = "node"   // the node's ping answered 503: ends when it answers 200 again
	DrainByGossip = "gossip" // the node's gossip state is draining: ends when it is serving again
)

// closeBatchStep is the spacing of the batches in which a drain closes
// the WebSockets left after DrainGrace: DrainSpread is cut into steps of
// this length, each closing an equal share.
const closeBatchStep = 100 * time.Millisecond

// Drain takes the node at addr out of selection: it gets no new request
// and no new WebSocket; requests in flight finish; after DrainGrace its
// open WebSockets are closed in batches spread over DrainSpread; it is
// drained once nothing is in flight. Draining a draining or drained node
// changes nothing. It returns the node's status after the call.
func (p *Pool) Drain(addr string) (NodeStatus, error) {
	return p.changeDrain(addr, true, DrainByAdmin)
}

// Undrain makes a draining or drained node active again (unhealthy if its
// probes fail), whoever started the drain; slow start begins anew.
// Undraining a node that is not draining changes nothing.
func (p *Pool) Undrain(addr string) (NodeStatus, error) {
	return p.changeDrain(addr, false, DrainByAdmin)
}

func (p *Pool) changeDrain(addr string, drain bool, by string) (NodeStatus, error) {
	cfg := p.cfg.Load()
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.nodes[addr]
	if n == nil {
		return NodeStatus{}, ErrUnknownNode
	}
	if drain {
		p.drainLocked(n, by, by+" drain")
	} else if p.applyLocked(n, evUndrain, by+" undrain") {
		n.gossipDraining = false
	}
	return n.status(cfg.Cluster, p.clock.Now(), cfg.SlowStart), nil
}

// drainLocked starts a drain of n asked for by by.
func (p *Pool) drainLocked(n *Node, by, reason string) {
	if n.state == StateDraining || n.state == StateDrained {
		return
	}
	n.drainBy, n.drainStarted = by, p.clock.Now()
	if !p.applyLocked(n, evDrain, reason) {
		n.drainBy, n.drainStarted = "", time.Time{}
	}
}

// startDrainLocked runs when n enters StateDraining: it arms the grace
// timer and notices a node with nothing in flight at once.
func (p *Pool) startDrainLocked(n *Node) {
	cfg := p.cfg.Load()
	n.drainGen++
	gen := n.drainGen
	n.drainTimer = p.clock.AfterFunc(cfg.DrainGrace, func() { p.closeBatch(n, gen, 0, 0) })
	if n.inFlight.Load() == 0 {
		p.applyLocked(n, evIdle, "nothing in flight")
	}
}

// stopDrainTimerLocked cancels the drain's pending closes.
func (p *Pool) stopDrainTimerLocked(n *Node) {
	n.drainGen++
	if n.drainTimer != nil {
		n.drainTimer.Stop()
		n.drainTimer = nil
	}
}

// closeBatch closes an equal share of n's open streams, 1/left of them,
// and schedules the next batch step later. The first call (left 0) cuts
// DrainSpread into batches: one per closeBatchStep, or one per stream when
// there are fewer streams, so that even a few streams spread over the
// whole window. A drain that ended or restarted since (gen differs) stops
// it.
func (p *Pool) closeBatch(n *Node, gen uint64, left int, step time.Duration) {
	cfg := p.cfg.Load()
	p.mu.Lock()
	if n.drainGen != gen || n.state != StateDraining {
		p.mu.Unlock()
		return
	}
	streams := n.openStreams()
	if left == 0 {
		left = min(max(1, int(cfg.DrainSpread/closeBatchStep)), max(1, len(streams)))
		step = cfg.DrainSpread / time.Duration(left)
	}
	k := (len(streams) + left - 1) / left
	if left > 1 && len(streams) > k {
		n.drainTimer = p.clock.AfterFunc(step, func() { p.closeBatch(n, gen, left-1, step) })
	} else {
		n.drainTimer = nil
	}
	p.mu.Unlock()
	for _, s := range streams[:k] {
		_ = s.Close()
	}
	if k > 0 {
		n.forced.Add(uint64(k))
		p.obs.StreamsClosed(cfg.Cluster, n.addr, k)
	}
}

// checkIdle makes a draining node with nothing in flight drained.
func (p *Pool) checkIdle(n *Node) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n.state == StateDraining && n.inFlight.Load() == 0 {
		p.applyLocked(n, evIdle, "nothing in flight")
	}
}
