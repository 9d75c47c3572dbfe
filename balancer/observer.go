package balancer

import "time"

// Observer is told what happens in a [Pool]: logs and metrics hang on it.
//
// Contract: StateChanged is called with the pool's lock held, in the order
// the changes happen, so it must not block nor call back into the Pool;
// Probed and StreamsClosed may be called concurrently from any goroutine.
// An Observer keeps nothing it is given beyond the call (the values are
// copies).
type Observer interface {
	// StateChanged reports one transition of one node.
	StateChanged(Change)
	// Probed reports one active health probe.
	Probed(Probe)
	// StreamsClosed reports that a drain closed n upgraded streams
	// (WebSockets) of node by force.
	StreamsClosed(cluster, node string, n int)
}

// Change is one state transition of one node.
type Change struct {
	Cluster string
	Node    string // the node's address, host:port
	From    State
	To      State
	Reason  string // why, for the log: "probe passed", "admin drain", …
	At      time.Time
}

// Probe is the outcome of one active health probe.
type Probe struct {
	Cluster string
	Node    string
	OK      bool          // 200 (or 503: alive and draining)
	Status  int           // the HTTP status, 0 when no answer came
	Latency time.Duration // from sending the request to reading the status
	Err     string        // why it failed, "" when OK
}

// ObserverFuncs is an [Observer] made of optional functions; a nil field
// ignores its event.
type ObserverFuncs struct {
	OnChange       func(Change)
	OnProbe        func(Probe)
	OnStreamsClose func(cluster, node string, n int)
}

// StateChanged calls OnChange if set.
func (o ObserverFuncs) StateChanged(c Change) {
	if o.OnChange != nil {
		o.OnChange(c)
	}
}

// Probed calls OnProbe if set.
func (o ObserverFuncs) Probed(p Probe) {
	if o.OnProbe != nil {
		o.OnProbe(p)
	}
}

// StreamsClosed calls OnStreamsClose if set.
func (o ObserverFuncs) StreamsClosed(cluster, node string, n int) {
	if o.OnStreamsClose != nil {
		o.OnStreamsClose(cluster, node, n)
	}
}

var _ Observer = ObserverFuncs{}
