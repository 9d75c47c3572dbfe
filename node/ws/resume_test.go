package ws

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// readMarkers reads len(want) events and checks their markers and seqs,
// which must run from firstSeq.
func readMarkers(t testing.TB, c *client, firstSeq int64, want ...string) {
	t.Helper()
	for i, w := range want {
		m := c.read()
		if m.Event == EventHello {
			t.Fatalf("got a hello (%s), want event %q: the connection was not resumed", m.raw, w)
		}
		if m.marker(t) != w || m.seq(t) != firstSeq+int64(i) {
			t.Fatalf("got %s, want %q with seq %d", m.raw, w, firstSeq+int64(i))
		}
	}
}

func TestResumeReplaysExactlyTheMissedEvents(t *testing.T) {
	tests := []struct {
		name       string
		waitDetach bool // the Hub noticed the old socket closed before the client came back
		challenge  bool // the new socket authenticates by challenge, as @mattermost/client may
	}{
		{name: "after the server noticed the drop", waitDetach: true},
		{name: "before the server noticed the drop", waitDetach: false},
		{name: "authenticated by challenge", waitDetach: true, challenge: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.members.setChannel("c1", "alice", "bob")
			a, id := e.connect(t, "alice")
			e.publish(t, posted("c1", "p1"))
			e.publish(t, posted("c1", "p2"))
			// The client processed p1 only: p2 was written, then lost
			// with the socket.
			readMarkers(t, a, 1, "p1", "p2")
			if tt.waitDetach {
				e.disconnect(t, a, "alice")
			} else {
				_ = a.ws.Close()
			}
			e.publish(t, posted("c1", "p3"))
			e.publish(t, Event{Event: "mine", Broadcast: Broadcast{UserID: "alice"}, Data: map[string]any{"post": "p4"}})

			o := dialOpts{header: "Bearer tok-alice", connID: id, seq: 2}
			if tt.challenge {
				o.header = ""
			}
			r := e.dial(t, o)
			if tt.challenge {
				r.send(1, ActionAuthenticationChallenge, map[string]any{"token": "tok-alice"})
			}
			readMarkers(t, r, 2, "p2", "p3", "p4")
			if tt.challenge {
				if m := r.read(); m.Status != "OK" || m.SeqReply != 1 {
					t.Fatalf("got %s, want the challenge's reply", m.raw)
				}
			}
			e.publish(t, posted("c1", "p5"))
			readMarkers(t, r, 5, "p5")
			if n := e.hub.UserSocketCount("alice"); n != 1 {
				t.Errorf("alice has %d open sockets, want 1", n)
			}
		})
	}
}

func TestResumeWithNothingMissedSendsNoHello(t *testing.T) {
	e := newTestEnv(t)
	e.members.setChannel("c1", "alice")
	a, id := e.connect(t, "alice")
	e.publish(t, posted("c1", "p1"))
	readMarkers(t, a, 1, "p1")
	e.disconnect(t, a, "alice")

	r := e.dial(t, dialOpts{header: "Bearer tok-alice", connID: id, seq: 2})
	e.publish(t, posted("c1", "p2"))
	readMarkers(t, r, 2, "p2")
}

func TestResumeImpossibleGivesNewConnection(t *testing.T) {
	tests := []struct {
		name string
		// lose prepares the Hub and returns the connection_id and
		// sequence_number the client comes back with.
		lose func(t *testing.T, e *testEnv) (string, int64)
	}{
		{name: "unknown connection_id", lose: func(*testing.T, *testEnv) (string, int64) { return newID(), 3 }},
		{name: "expired connection", lose: func(t *testing.T, e *testEnv) (string, int64) {
			a, id := e.connect(t, "alice")
			e.disconnect(t, a, "alice")
			e.clock.Advance(5*time.Minute + time.Second)
			return id, 1
		}},
		{name: "reaped connection", lose: func(t *testing.T, e *testEnv) (string, int64) {
			a, id := e.connect(t, "alice")
			e.disconnect(t, a, "alice")
			e.clock.Advance(5*time.Minute + time.Second)
			e.hub.reap()
			if n := e.hub.connCount(); n != 0 {
				t.Fatalf("reap left %d connections", n)
			}
			return id, 1
		}},
		{name: "another user's connection", lose: func(t *testing.T, e *testEnv) (string, int64) {
			_, id := e.connect(t, "bob")
			return id, 1
		}},
		{name: "missed events no longer in the ring", lose: func(t *testing.T, e *testEnv) (string, int64) {
			a, id := e.connect(t, "alice")
			for i := range 5 { // ring of 2: holds seqs 4 and 5
				e.publish(t, posted("c1", fmt.Sprint(i)))
			}
			readMarkers(t, a, 1, "0", "1", "2", "3", "4")
			e.disconnect(t, a, "alice")
			return id, 3
		}},
		{name: "sequence_number from the future", lose: func(t *testing.T, e *testEnv) (string, int64) {
			a, id := e.connect(t, "alice")
			e.disconnect(t, a, "alice")
			return id, 7
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, func(c *Config, _ *Deps) { c.DeadQueueSize = 2 })
			e.members.setChannel("c1", "alice")
			id, seq := tt.lose(t, e)

			r := e.dial(t, dialOpts{header: "Bearer tok-alice", connID: id, seq: seq})
			hello := r.read()
			newID := hello.connectionID(t)
			if hello.Event != EventHello || hello.seq(t) != 0 || newID == id || !isValidID(newID) {
				t.Fatalf("got %s, want a hello with seq 0 and a new connection_id", hello.raw)
			}
			e.publish(t, posted("c1", "next"))
			readMarkers(t, r, 1, "next")
			// The new id is the one to resume with from now on.
			e.disconnect(t, r, "alice")
			r2 := e.dial(t, dialOpts{header: "Bearer tok-alice", connID: newID, seq: 2})
			e.publish(t, posted("c1", "after"))
			readMarkers(t, r2, 2, "after")
		})
	}
}

func TestReaperKeepsConnectionsWithinInactiveTimeout(t *testing.T) {
	e := newTestEnv(t)
	a, _ := e.connect(t, "alice")
	_, _ = e.connect(t, "bob")
	e.disconnect(t, a, "alice")
	e.clock.Advance(5 * time.Minute)
	e.hub.reap()
	if n := e.hub.connCount(); n != 2 {
		t.Fatalf("after exactly InactiveTimeout the Hub holds %d connections, want 2", n)
	}
	e.clock.Advance(time.Second)
	e.hub.reap()
	if n := e.hub.connCount(); n != 1 {
		t.Fatalf("after InactiveTimeout the Hub holds %d connections, want only bob's open one", n)
	}
}

// TestResumeOnAnotherHub moves a connection between two Hubs the way the
// cluster will: the new node's FetchQueue calls the old node's TakeQueue,
// with the queue crossing as JSON.
func TestResumeOnAnotherHub(t *testing.T) {
	oldNode := newTestEnv(t)
	newNode := newTestEnv(t)
	for _, e := range []*testEnv{oldNode, newNode} {
		e.members.setChannel("c1", "alice")
	}
	var fetched atomic.Int32
	newNode.hub.SetCluster(&recordingCluster{fetch: func(_ context.Context, userID, connID string) (Queue, bool, error) {
		fetched.Add(1)
		q, ok := oldNode.hub.TakeQueue(userID, connID)
		if !ok {
			return Queue{}, false, nil
		}
		b, err := json.Marshal(q)
		if err != nil {
			return Queue{}, false, err
		}
		var out Queue
		return out, true, json.Unmarshal(b, &out)
	}})

	a, id := oldNode.connect(t, "alice")
	oldNode.publish(t, posted("c1", "p1"))
	oldNode.publish(t, posted("c1", "p2"))
	readMarkers(t, a, 1, "p1", "p2") // the client processed p1 only
	oldNode.disconnect(t, a, "alice")
	oldNode.publish(t, posted("c1", "p3"))

	r := newNode.dial(t, dialOpts{header: "Bearer tok-alice", connID: id, seq: 2})
	readMarkers(t, r, 2, "p2", "p3")
	if fetched.Load() != 1 || oldNode.hub.connCount() != 0 {
		t.Errorf("fetched %d times, old node holds %d connections; want 1 and 0", fetched.Load(), oldNode.hub.connCount())
	}
	newNode.publish(t, posted("c1", "p4"))
	readMarkers(t, r, 4, "p4")

	// The old node no longer has it: a second take finds nothing.
	if _, ok := oldNode.hub.TakeQueue("alice", id); ok {
		t.Error("connection taken twice")
	}
}

func TestTakeQueueOfOpenSocket(t *testing.T) {
	e := newTestEnv(t)
	e.members.setChannel("c1", "alice")
	a, id := e.connect(t, "alice")
	e.publish(t, posted("c1", "p1"))
	readMarkers(t, a, 1, "p1")

	if _, ok := e.hub.TakeQueue("bob", id); ok {
		t.Fatal("another user took alice's queue")
	}
	q, ok := e.hub.TakeQueue("alice", id)
	if !ok {
		t.Fatal("TakeQueue found nothing")
	}
	if q.ConnectionID != id || q.UserID != "alice" || q.NextSeq != 2 || len(q.Sent) != 2 ||
		q.Sent[0].Event != EventHello || q.Sent[1].Seq != 1 || len(q.Pending) != 0 {
		t.Errorf("queue %+v", q)
	}
	var ev Event
	if err := json.Unmarshal(q.Sent[1].JSON, &ev); err != nil || ev.Event != EventPosted || ev.Broadcast.ChannelID != "c1" {
		t.Errorf("sent event %s does not decode as the published Event: %v", q.Sent[1].JSON, err)
	}
	if err := a.expectClosed(nil); err == nil {
		t.Fatal("socket still open")
	}
	waitFor(t, "alice offline here", func() bool { return e.hub.UserSocketCount("alice") == 0 })
}

func TestAdoptRejectsBadQueues(t *testing.T) {
	e := newTestEnv(t, func(c *Config, _ *Deps) { c.SendQueueSize = 2 })
	ev := json.RawMessage(`{"event":"posted","data":{},"broadcast":{}}`)
	id := newID()
	tests := []struct {
		name string
		q    Queue
	}{
		{name: "other user", q: Queue{ConnectionID: id, UserID: "bob"}},
		{name: "bad id", q: Queue{ConnectionID: "x", UserID: "alice"}},
		{name: "negative seq", q: Queue{ConnectionID: id, UserID: "alice", NextSeq: -1}},
		{name: "gap in sent", q: Queue{ConnectionID: id, UserID: "alice", NextSeq: 3,
			Sent: []QueuedEvent{{Seq: 0, Event: "a", JSON: ev}, {Seq: 2, Event: "a", JSON: ev}}}},
		{name: "sent not ending at next_seq", q: Queue{ConnectionID: id, UserID: "alice", NextSeq: 5,
			Sent: []QueuedEvent{{Seq: 1, Event: "a", JSON: ev}}}},
		{name: "too many pending", q: Queue{ConnectionID: id, UserID: "alice",
			Pending: []QueuedEvent{{Event: "a", JSON: ev}, {Event: "a", JSON: ev}, {Event: "a", JSON: ev}}}},
		{name: "pending not an object", q: Queue{ConnectionID: id, UserID: "alice",
			Pending: []QueuedEvent{{Event: "a", JSON: json.RawMessage(`[1]`)}}}},
		{name: "sent empty object", q: Queue{ConnectionID: id, UserID: "alice", NextSeq: 1,
			Sent: []QueuedEvent{{Seq: 0, Event: "a", JSON: json.RawMessage(`{ }`)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.hub.adopt(tt.q, "alice", "s"); err == nil {
				t.Error("adopted")
			}
		})
	}
}
