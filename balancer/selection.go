package balancer

import (
	"math/rand/v2"
	"time"
)

// minWeight is a node's slow-start weight right after it became active:
// it gets new connections once the others hold about twenty times its
// load, so it is never starved, only spared.
const minWeight = 0.05

// Select returns the active node that should take a new request or
// WebSocket, or nil when no node is active. It is least connections, where
// an open WebSocket counts as a request in flight, weighted by slow start:
// a node's load is (in flight + 1) ÷ weight, and its weight grows from
// minWeight to 1 over SlowStart after it became active. Ties are broken at
// random. Nodes in skip are passed over (a retry after a failed dial).
func (p *Pool) Select(skip ...*Node) *Node {
	active := p.Active()
	i := p.Best(len(active), func(i int) *Node {
		n := active[i]
		for _, s := range skip {
			if s == n {
				return nil
			}
		}
		return n
	})
	if i < 0 {
		return nil
	}
	return active[i]
}

// Best returns the index, among count candidates, of the one to take a
// new request by the rule of [Pool.Select], or -1. node(i) returns the
// i-th candidate, or nil to pass it over. It lets a caller holding its own
// list (Caddy's upstream pool) choose without building a slice of nodes.
func (p *Pool) Best(count int, node func(i int) *Node) int {
	slow := p.cfg.Load().SlowStart
	now := p.clock.Now().UnixNano()
	best, ties := -1, 0
	var bestLoad float64
	for i := range count {
		n := node(i)
		if n == nil {
			continue
		}
		load := float64(n.inFlight.Load() + 1)
		if slow > 0 {
			load /= n.weight(now, slow)
		}
		switch {
		case best < 0 || load < bestLoad:
			best, bestLoad, ties = i, load, 1
		case load == bestLoad:
			// Reservoir sampling: each of the tied candidates wins with
			// equal chance without a second pass.
			ties++
			if rand.IntN(ties) == 0 {
				best = i
			}
		}
	}
	return best
}

// SlowStartWeight returns n's slow-start weight now, from 0.05 to 1 (1
// when slow start is off or over).
func (p *Pool) SlowStartWeight(n *Node) float64 {
	return n.weight(p.clock.Now().UnixNano(), time.Duration(p.cfg.Load().SlowStart))
}
