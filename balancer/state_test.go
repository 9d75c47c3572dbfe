package balancer

import "testing"

func TestTransition(t *testing.T) {
	tests := []struct {
		name    string
		from    State
		ev      event
		healthy bool
		want    State
		changed bool
	}{
		{"joining node becomes active on its first pass", StateJoining, evHealthy, true, StateActive, true},
		{"joining node stays joining while it fails", StateJoining, evUnhealthy, false, StateJoining, false},
		{"active node fails", StateActive, evUnhealthy, false, StateUnhealthy, true},
		{"unhealthy node recovers", StateUnhealthy, evHealthy, true, StateActive, true},
		{"active node drains", StateActive, evDrain, true, StateDraining, true},
		{"unhealthy node drains", StateUnhealthy, evDrain, false, StateDraining, true},
		{"draining node ignores its probes passing", StateDraining, evHealthy, true, StateDraining, false},
		{"draining node ignores its probes failing", StateDraining, evUnhealthy, false, StateDraining, false},
		{"draining node with nothing in flight is drained", StateDraining, evIdle, true, StateDrained, true},
		{"drained node undrained while healthy is active", StateDrained, evUndrain, true, StateActive, true},
		{"drained node undrained while failing is unhealthy", StateDrained, evUndrain, false, StateUnhealthy, true},
		{"draining node undrained is active", StateDraining, evUndrain, true, StateActive, true},
		{"active node is not undrained", StateActive, evUndrain, true, StateActive, false},
		{"drained node is not drained again", StateDrained, evDrain, true, StateDrained, false},
		{"active node is not idle-drained", StateActive, evIdle, true, StateActive, false},
		{"drained node is removed", StateDrained, evRemove, true, StateRemoved, true},
		{"any node is removed", StateActive, evRemove, true, StateRemoved, true},
		{"removed node stays removed", StateRemoved, evHealthy, true, StateRemoved, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := transition(tt.from, tt.ev, tt.healthy)
			if got != tt.want || changed != tt.changed {
				t.Fatalf("transition(%s, %s, healthy=%v) = %s, %v; want %s, %v", tt.from, tt.ev, tt.healthy, got, changed, tt.want, tt.changed)
			}
		})
	}
}

func TestStateNames(t *testing.T) {
	want := []string{"joining", "active", "unhealthy", "draining", "drained", "removed"}
	for i, s := range States() {
		if s.String() != want[i] {
			t.Errorf("States()[%d] = %q; want %q", i, s, want[i])
		}
	}
	if got := State(42).String(); got != "State(42)" {
		t.Errorf("State(42) = %q", got)
	}
}
