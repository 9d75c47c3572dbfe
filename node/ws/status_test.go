package ws

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
)

// statusRecorder records presence transitions as "on:<user>"/"off:<user>".
type statusRecorder struct {
	mu  sync.Mutex
	got []string
}

func (r *statusRecorder) UserOnline(_ context.Context, userID string)  { r.add("on:" + userID) }
func (r *statusRecorder) UserOffline(_ context.Context, userID string) { r.add("off:" + userID) }

func (r *statusRecorder) add(s string) {
	r.mu.Lock()
	r.got = append(r.got, s)
	r.mu.Unlock()
}

func (r *statusRecorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// waitStatus waits until the recorder holds exactly want.
func (r *statusRecorder) waitStatus(t *testing.T, want ...string) {
	t.Helper()
	waitFor(t, "transitions "+strings.Join(want, ", "), func() bool { return len(r.list()) >= len(want) })
	if got := r.list(); !slices.Equal(got, want) {
		t.Fatalf("transitions %v, want %v", got, want)
	}
}

func TestStatusOnlineOnFirstSocketOfflineOnLast(t *testing.T) {
	rec := &statusRecorder{}
	e := newTestEnv(t, func(_ *Config, d *Deps) { d.Status = rec })
	a1, _ := e.connect(t, "alice")
	rec.waitStatus(t, "on:alice")
	a2, _ := e.connect(t, "alice")
	b, _ := e.connect(t, "bob")
	rec.waitStatus(t, "on:alice", "on:bob")

	_ = a1.ws.Close() // alice still has a2: no transition
	waitFor(t, "alice down to one socket", func() bool { return e.hub.UserSocketCount("alice") == 1 })
	e.disconnect(t, b, "bob")
	rec.waitStatus(t, "on:alice", "on:bob", "off:bob")
	e.disconnect(t, a2, "alice")
	rec.waitStatus(t, "on:alice", "on:bob", "off:bob", "off:alice")
}

func TestStatusStaysOnlineWhenSocketIsTakenOver(t *testing.T) {
	rec := &statusRecorder{}
	e := newTestEnv(t, func(_ *Config, d *Deps) { d.Status = rec })
	e.members.setChannel("c1", "alice")
	a, id := e.connect(t, "alice")
	// The client comes back on a new socket before the old one is noticed
	// as closed: the connection moves, the user never goes offline.
	r := e.dial(t, dialOpts{header: "Bearer tok-alice", connID: id, seq: 1})
	if err := a.expectClosed(nil); err == nil {
		t.Fatal("old socket still open")
	}
	e.publish(t, posted("c1", "p1"))
	readMarkers(t, r, 1, "p1")
	e.disconnect(t, r, "alice")
	rec.waitStatus(t, "on:alice", "off:alice")
}
