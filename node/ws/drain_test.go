package ws

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// takeFrom is a cluster whose FetchQueue takes the queue from old's Hub,
// through JSON as over the network.
func takeFrom(old *testEnv) *recordingCluster {
	return &recordingCluster{fetch: func(_ context.Context, userID, connID string) (Queue, bool, error) {
		q, ok := old.hub.TakeQueue(userID, connID)
		if !ok {
			return Queue{}, false, nil
		}
		b, err := json.Marshal(q)
		if err != nil {
			return Queue{}, false, err
		}
		var out Queue
		return out, true, json.Unmarshal(b, &out)
	}}
}

func TestDrainHandsConnectionsToAnotherNode(t *testing.T) {
	oldNode := newTestEnv(t)
	newNode := newTestEnv(t)
	for _, e := range []*testEnv{oldNode, newNode} {
		e.members.setChannel("c1", "alice")
	}
	newNode.hub.SetCluster(takeFrom(oldNode))

	a, id := oldNode.connect(t, "alice")
	oldNode.publish(t, posted("c1", "p1"))
	readMarkers(t, a, 1, "p1")

	drained := make(chan error, 1)
	go func() { drained <- oldNode.hub.Drain(context.Background()) }()

	err := a.expectClosed(nil)
	if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("socket ended with %v, want close frame %d", err, websocket.CloseGoingAway)
	}
	waitFor(t, "the old node to notice the socket closed", func() bool { return oldNode.hub.UserSocketCount("alice") == 0 })

	// The connection stays and keeps queueing while nobody took it.
	oldNode.publish(t, posted("c1", "p2"))
	oldNode.publish(t, posted("c1", "p3"))
	if n := oldNode.hub.connCount(); n != 1 {
		t.Fatalf("draining node holds %d connections, want 1", n)
	}
	select {
	case err := <-drained:
		t.Fatalf("Drain returned %v before the connection was taken", err)
	default:
	}
	// The draining node takes no new socket, nor a resume.
	for _, o := range []dialOpts{{header: "Bearer tok-bob"}, {header: "Bearer tok-alice", connID: id, seq: 2}} {
		if _, resp, err := oldNode.tryDial(o); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("dial %+v on a draining node: %v, want 503", o, err)
		}
	}

	r := newNode.dial(t, dialOpts{header: "Bearer tok-alice", connID: id, seq: 2})
	readMarkers(t, r, 2, "p2", "p3")
	select {
	case err := <-drained:
		if err != nil {
			t.Fatalf("Drain: %v, want nil once every connection was taken", err)
		}
	case <-time.After(longStop):
		t.Fatal("Drain still waiting after its only connection was taken")
	}
	if n := oldNode.hub.connCount(); n != 0 {
		t.Errorf("draining node holds %d connections after the take, want 0", n)
	}
}

func TestDrainGivesUpAfterDrainTimeout(t *testing.T) {
	e := newTestEnv(t, func(c *Config, _ *Deps) { c.DrainTimeout = 20 * time.Millisecond })
	a, _ := e.connect(t, "alice")
	err := e.hub.Drain(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "1 connections") {
		t.Fatalf("Drain = %v, want 1 connection left and a deadline error", err)
	}
	if err := a.expectClosed(nil); !websocket.IsCloseError(err, websocket.CloseGoingAway) {
		t.Fatalf("socket ended with %v, want close frame %d", err, websocket.CloseGoingAway)
	}
	if err := e.hub.Close(); err != nil {
		t.Fatal(err)
	}
	if n := e.hub.connCount(); n != 0 {
		t.Errorf("closed Hub holds %d connections, want 0", n)
	}
}

func TestDrainReturnsAtOnceWithoutConnections(t *testing.T) {
	tests := []struct {
		name   string
		closed bool
	}{
		{name: "open hub without connections"},
		{name: "closed hub", closed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A DrainTimeout beyond the test's: returning means returning at once.
			e := newTestEnv(t, func(c *Config, _ *Deps) { c.DrainTimeout = time.Hour })
			if tt.closed {
				_ = e.hub.Close()
			}
			if err := e.hub.Drain(t.Context()); err != nil {
				t.Fatalf("Drain = %v, want nil", err)
			}
		})
	}
}
