package balancer

import "fmt"

// State is where a node is in its life as the front door sees it:
//
//	joining ──pass──▶ active ◀──passes──▶ unhealthy
//	                    │ ▲
//	              drain │ │ undrain
//	                    ▼ │
//	                 draining ──nothing in flight──▶ drained ──▶ active | removed
//
// Only an active node gets new requests and new WebSockets. Any state ends
// in removed when the node leaves the static list or the gossip.
type State int

// The states of a node. The zero value is StateJoining.
const (
	// StateJoining: known (listed or gossiped) but not yet probed
	// successfully; it becomes active on its first passed probe.
	StateJoining State = iota
	// StateActive: healthy and taking new requests and WebSockets.
	StateActive
	// StateUnhealthy: failed HealthFails probes in a row, or PassiveFails
	// requests in a row; active again after HealthPasses passed probes.
	StateUnhealthy
	// StateDraining: taking nothing new; requests in flight finish and
	// its WebSockets are closed after DrainGrace, spread over DrainSpread.
	StateDraining
	// StateDrained: a drain that has nothing left in flight.
	StateDrained
	// StateRemoved: gone from the pool; the state of a [Node] value kept
	// by a request that outlived it.
	StateRemoved
)

var stateNames = [...]string{"joining", "active", "unhealthy", "draining", "drained", "removed"}

// String returns the state's name as the admin API and metrics show it.
func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return fmt.Sprintf("State(%d)", int(s))
	}
	return stateNames[s]
}

// States lists every state in order, for metrics that export one series
// per state.
func States() []State {
	return []State{StateJoining, StateActive, StateUnhealthy, StateDraining, StateDrained, StateRemoved}
}

// event is what moves a node from one state to another.
type event int

const (
	evHealthy   event = iota // enough probes passed (1 when joining, HealthPasses when unhealthy)
	evUnhealthy              // HealthFails probes or PassiveFails requests failed in a row
	evDrain                  // the admin API, the node's ping (503) or its gossip state asked for a drain
	evUndrain                // the admin API, or the node's announcement was withdrawn
	evIdle                   // a draining node has nothing in flight
	evRemove                 // the node left the static list or the gossip
)

var eventNames = [...]string{"healthy", "unhealthy", "drain", "undrain", "idle", "remove"}

func (e event) String() string { return eventNames[e] }

// transition returns the state that ev leads to from s, and false if ev
// changes nothing in s. healthy is the node's current health, which decides
// where an undrain goes.
func transition(s State, ev event, healthy bool) (State, bool) {
	if s == StateRemoved {
		return s, false
	}
	switch ev {
	case evRemove:
		return StateRemoved, true
	case evHealthy:
		if s == StateJoining || s == StateUnhealthy {
			return StateActive, true
		}
	case evUnhealthy:
		if s == StateActive {
			return StateUnhealthy, true
		}
	case evDrain:
		switch s {
		case StateJoining, StateActive, StateUnhealthy:
			return StateDraining, true
		}
	case evUndrain:
		if s == StateDraining || s == StateDrained {
			if healthy {
				return StateActive, true
			}
			return StateUnhealthy, true
		}
	case evIdle:
		if s == StateDraining {
			return StateDrained, true
		}
	}
	return s, false
}
