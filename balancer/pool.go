package balancer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNoNode is returned when no node is active to take a request.
var ErrNoNode = errors.New("balancer: no active node")

// ErrUnknownNode is returned by [Pool.Drain] and [Pool.Undrain] for an
// address that is not in the pool.
var ErrUnknownNode = errors.New("balancer: no such node")

// Options are a [Pool]'s collaborators; every field may be left zero.
type Options struct {
	// Clock is the time source; nil: [SystemClock].
	Clock Clock
	// Observer is told of state changes, probes and forced closes; nil:
	// nobody.
	Observer Observer
	// Prober runs the active health probes; nil: an [HTTPProber].
	Prober Prober
}

// Pool is the front door's view of one cluster of app nodes: their states,
// one active health checker for all of them, passive failure counting,
// least-connections selection with slow start, and draining. It is safe
// for concurrent use. Start it with [Pool.Start] and stop it with
// [Pool.Stop].
type Pool struct {
	clock  Clock
	obs    Observer
	prober Prober

	cfg    atomic.Pointer[Config]  // the current settings; Reconfigure swaps them
	active atomic.Pointer[[]*Node] // the active nodes in address order, rebuilt on every change; never modified in place

	mu      sync.Mutex       // guards nodes, checker and the fields of Node marked as guarded by it
	nodes   map[string]*Node // every node not removed, by address
	checker *checker         // the active health checker; nil when stopped
}

// NewPool returns a pool holding cfg's static nodes, all joining. It
// validates cfg (the error names the setting) and keeps a copy. Nothing
// runs until [Pool.Start].
func NewPool(cfg Config, opts Options) (*Pool, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Pool{clock: opts.Clock, obs: opts.Observer, prober: opts.Prober, nodes: map[string]*Node{}}
	if p.clock == nil {
		p.clock = SystemClock{}
	}
	if p.obs == nil {
		p.obs = ObserverFuncs{}
	}
	if p.prober == nil {
		p.prober = NewHTTPProber()
	}
	cfg.Nodes = slices.Clone(cfg.Nodes)
	p.cfg.Store(&cfg)
	p.active.Store(&[]*Node{})
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, addr := range cfg.Nodes {
		p.addLocked(addr).static = true
	}
	return p, nil
}

// Name returns the cluster's name (Config.Cluster).
func (p *Pool) Name() string { return p.cfg.Load().Cluster }

// Config returns a copy of the current settings.
func (p *Pool) Config() Config {
	c := *p.cfg.Load()
	c.Nodes = slices.Clone(c.Nodes)
	return c
}

// Reconfigure applies new settings, as a Caddy reload does: health-check
// settings take effect at the next probe, static nodes new to the list
// join, and static nodes gone from it are removed unless the gossip also
// knows them. Node states, counters and open streams are kept. The cluster
// name cannot change.
func (p *Pool) Reconfigure(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.Cluster != p.Name() {
		return fmt.Errorf("balancer: cluster: cannot rename %q to %q", p.Name(), cfg.Cluster)
	}
	cfg.Nodes = slices.Clone(cfg.Nodes)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg.Store(&cfg)
	listed := make(map[string]bool, len(cfg.Nodes))
	for _, addr := range cfg.Nodes {
		listed[addr] = true
		n := p.nodes[addr]
		if n == nil {
			n = p.addLocked(addr)
		}
		n.static = true
	}
	for addr, n := range p.nodes {
		if n.static && !listed[addr] {
			n.static = false
			if !n.gossiped {
				p.removeLocked(n, "no longer in the static list")
			}
		}
	}
	return nil
}

// Start starts the active health checker, which probes every node at
// once and then every HealthInterval. Calling Start on a started pool does
// nothing.
func (p *Pool) Start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.checker != nil {
		return
	}
	p.checker = newChecker(p)
	p.checker.start()
}

// Stop stops the health checker and every drain timer. Open streams are
// left alone: they end with their clients or nodes. The pool can be
// started again.
func (p *Pool) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.checker != nil {
		p.checker.stop()
		p.checker = nil
	}
	for _, n := range p.nodes {
		n.drainGen++
		if n.drainTimer != nil {
			n.drainTimer.Stop()
			n.drainTimer = nil
		}
	}
}

// Active returns the nodes that may take new requests, in address order.
// The slice is shared: the caller must not modify it.
func (p *Pool) Active() []*Node { return *p.active.Load() }

// Nodes returns the status of every node, in address order.
func (p *Pool) Nodes() []NodeStatus {
	cfg := p.cfg.Load()
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock.Now()
	out := make([]NodeStatus, 0, len(p.nodes))
	for _, n := range p.nodes {
		out = append(out, n.status(cfg.Cluster, now, cfg.SlowStart))
	}
	slices.SortFunc(out, func(a, b NodeStatus) int { return compareAddr(a.Node, b.Node) })
	return out
}

// Status returns the status of the node at addr, and false if the pool
// has no such node.
func (p *Pool) Status(addr string) (NodeStatus, bool) {
	cfg := p.cfg.Load()
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.nodes[addr]
	if n == nil {
		return NodeStatus{}, false
	}
	return n.status(cfg.Cluster, p.clock.Now(), cfg.SlowStart), true
}

// Lookup returns the node at addr, or nil, without taking the pool's lock
// when the node is active (the per-request path).
func (p *Pool) Lookup(addr string) *Node {
	for _, n := range p.Active() {
		if n.addr == addr {
			return n
		}
	}
	return p.Node(addr)
}

// Node returns the node at addr, or nil.
func (p *Pool) Node(addr string) *Node {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.nodes[addr]
}

// addLocked adds a joining node and asks the checker to probe it now.
func (p *Pool) addLocked(addr string) *Node {
	n := &Node{addr: addr, pool: p, state: StateJoining, since: p.clock.Now()}
	p.nodes[addr] = n
	p.obs.StateChanged(Change{Cluster: p.Name(), Node: addr, From: StateRemoved, To: StateJoining, Reason: "added", At: n.since})
	if p.checker != nil {
		p.checker.probeSoon(n)
	}
	return n
}

// removeLocked takes n out of the pool for good.
func (p *Pool) removeLocked(n *Node, reason string) {
	p.applyLocked(n, evRemove, reason)
	delete(p.nodes, n.addr)
}

// applyLocked moves n by ev, with its side effects: the active list,
// slow start's origin, the drain flag and timers, and the observer.
func (p *Pool) applyLocked(n *Node, ev event, reason string) bool {
	to, ok := transition(n.state, ev, n.healthy)
	if !ok {
		return false
	}
	from := n.state
	now := p.clock.Now()
	n.state, n.since = to, now
	if to == StateActive {
		n.activeSince.Store(now.UnixNano())
		n.passiveFails.Store(0)
	}
	n.draining.Store(to == StateDraining)
	if from == StateDraining || from == StateDrained {
		if to != StateDrained {
			n.drainBy, n.drainStarted = "", time.Time{}
		}
		if to != StateDraining {
			p.stopDrainTimerLocked(n)
		}
	}
	if from == StateActive || to == StateActive {
		p.rebuildActiveLocked()
	}
	p.obs.StateChanged(Change{Cluster: p.Name(), Node: n.addr, From: from, To: to, Reason: reason, At: now})
	if to == StateDraining {
		p.startDrainLocked(n)
	}
	return true
}

// rebuildActiveLocked publishes a new active list.
func (p *Pool) rebuildActiveLocked() {
	list := make([]*Node, 0, len(p.nodes))
	for _, n := range p.nodes {
		if n.state == StateActive {
			list = append(list, n)
		}
	}
	slices.SortFunc(list, func(a, b *Node) int { return compareAddr(a.addr, b.addr) })
	p.active.Store(&list)
}

// compareAddr orders addresses for stable listings.
func compareAddr(a, b string) int { return strings.Compare(a, b) }
