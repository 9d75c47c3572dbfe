package balancer

import (
	"sync"
	"sync/atomic"
	"time"
)

// Node is one app node in a [Pool]. Its counters are updated without a
// lock on every request; its state is guarded by the pool's lock. A Node
// value stays valid after the node is removed, so a request or stream that
// outlives it can still end.
type Node struct {
	addr string
	pool *Pool

	inFlight     atomic.Int64  // requests in flight plus open streams: the least-connections load
	streams      atomic.Int64  // open upgraded streams (WebSockets), also counted in inFlight
	requests     atomic.Uint64 // requests and streams ever begun
	bytesUp      atomic.Uint64 // tunnelled bytes from clients to the node
	bytesDown    atomic.Uint64 // tunnelled bytes from the node to clients
	forced       atomic.Uint64 // streams closed by a drain
	draining     atomic.Bool   // state is StateDraining; read on every End without the lock
	passiveFails atomic.Int32  // failed requests in a row
	activeSince  atomic.Int64  // Unix nanoseconds when it last became active: slow start's origin

	streamMu  sync.Mutex          // guards streamSet
	streamSet map[Stream]struct{} // open streams, for a drain to close; lazily made

	// Guarded by pool.mu:
	state          State
	since          time.Time // when state was entered
	healthy        bool      // the probes' (and passive checks') verdict
	passes, fails  int       // consecutive probe results
	lastCheck      time.Time
	lastLatency    time.Duration
	lastStatus     int
	lastErr        string
	drainBy        string // who asked for the drain: "admin", "node" (ping 503), "gossip"; "" if none
	drainStarted   time.Time
	drainGen       uint64 // bumped at each drain start and end, so stale drain timers do nothing
	drainTimer     Timer
	static         bool // listed in Config.Nodes
	gossiped       bool // learnt from the gossip
	gossipDraining bool // the gossip says its state is draining
	probing        bool // a probe of it is running
}

// Stream is an upgraded connection (a WebSocket tunnel) through a node
// that a drain may have to close. Close must be safe to call concurrently
// with the stream's own use and more than once.
type Stream interface {
	Close() error
}

// Addr returns the node's API address, host:port.
func (n *Node) Addr() string { return n.addr }

// Begin counts a request (or stream) to n as in flight. Every Begin must
// be followed by exactly one [Node.End].
func (n *Node) Begin() {
	n.inFlight.Add(1)
	n.requests.Add(1)
}

// End ends what [Node.Begin] counted. When a draining node has nothing
// left in flight it becomes drained.
func (n *Node) End() {
	if n.inFlight.Add(-1) == 0 && n.draining.Load() {
		n.pool.checkIdle(n)
	}
}

// AddStream registers an open upgraded stream through n, so a drain can
// close it; the caller has counted it with [Node.Begin] too.
func (n *Node) AddStream(s Stream) {
	n.streamMu.Lock()
	if n.streamSet == nil {
		n.streamSet = make(map[Stream]struct{})
	}
	n.streamSet[s] = struct{}{}
	n.streamMu.Unlock()
	n.streams.Add(1)
}

// RemoveStream forgets a stream that has ended; a stream not registered
// is ignored.
func (n *Node) RemoveStream(s Stream) {
	n.streamMu.Lock()
	_, ok := n.streamSet[s]
	delete(n.streamSet, s)
	n.streamMu.Unlock()
	if ok {
		n.streams.Add(-1)
	}
}

// AddBytes counts tunnelled bytes: up from the client to the node, down
// from the node to the client.
func (n *Node) AddBytes(up, down int) {
	if up > 0 {
		n.bytesUp.Add(uint64(up))
	}
	if down > 0 {
		n.bytesDown.Add(uint64(down))
	}
}

// openStreams returns the streams open now, in no order.
func (n *Node) openStreams() []Stream {
	n.streamMu.Lock()
	defer n.streamMu.Unlock()
	out := make([]Stream, 0, len(n.streamSet))
	for s := range n.streamSet {
		out = append(out, s)
	}
	return out
}

// weight is n's slow-start weight at now (Unix nanoseconds): from
// minWeight right after it became active to 1 once slow has passed.
func (n *Node) weight(now int64, slow time.Duration) float64 {
	if slow <= 0 {
		return 1
	}
	elapsed := now - n.activeSince.Load()
	if elapsed >= int64(slow) {
		return 1
	}
	w := float64(elapsed) / float64(slow)
	if w < minWeight {
		return minWeight
	}
	return w
}

// NodeStatus is a copy of one node's state, as the admin API and the
// status page show it.
type NodeStatus struct {
	Cluster      string    `json:"cluster"`
	Node         string    `json:"node"`
	State        string    `json:"state"`
	Healthy      bool      `json:"healthy"`
	InFlight     int64     `json:"in_flight"`  // requests in flight, streams not included
	WebSockets   int64     `json:"websockets"` // open upgraded streams
	Requests     uint64    `json:"requests"`   // requests and streams ever begun
	Since        time.Time `json:"since"`      // when it entered State
	Weight       float64   `json:"weight"`     // slow-start share, 0 to 1 (1 when not active)
	LastCheck    time.Time `json:"last_check,omitzero"`
	LastStatus   int       `json:"last_status,omitempty"`
	LastLatency  float64   `json:"last_latency_ms"`
	LastError    string    `json:"last_error,omitempty"`
	DrainBy      string    `json:"drain_by,omitempty"`
	DrainStarted time.Time `json:"drain_started,omitzero"`
	ForcedCloses uint64    `json:"forced_closes"`
	BytesUp      uint64    `json:"bytes_up"`
	BytesDown    uint64    `json:"bytes_down"`
	Sources      []string  `json:"sources"` // "static", "gossip"
}

// status copies n; the pool's lock is held.
func (n *Node) status(cluster string, now time.Time, slow time.Duration) NodeStatus {
	streams := n.streams.Load()
	s := NodeStatus{
		Cluster:      cluster,
		Node:         n.addr,
		State:        n.state.String(),
		Healthy:      n.healthy,
		InFlight:     max(n.inFlight.Load()-streams, 0),
		WebSockets:   streams,
		Requests:     n.requests.Load(),
		Since:        n.since,
		Weight:       1,
		LastCheck:    n.lastCheck,
		LastStatus:   n.lastStatus,
		LastLatency:  float64(n.lastLatency.Microseconds()) / 1000,
		LastError:    n.lastErr,
		DrainBy:      n.drainBy,
		DrainStarted: n.drainStarted,
		ForcedCloses: n.forced.Load(),
		BytesUp:      n.bytesUp.Load(),
		BytesDown:    n.bytesDown.Load(),
		Sources:      []string{},
	}
	if n.state == StateActive {
		s.Weight = n.weight(now.UnixNano(), slow)
	}
	if n.static {
		s.Sources = append(s.Sources, "static")
	}
	if n.gossiped {
		s.Sources = append(s.Sources, "gossip")
	}
	return s
}
