package ws

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
)

func TestPublishTargeting(t *testing.T) {
	e := newTestEnv(t)
	e.members.setChannel("c1", "alice", "bob")
	e.members.setTeam("t1", "alice", "carol")
	// Each socket is named by its user and a number.
	socks := map[string]*client{}
	ids := map[string]string{}
	for _, name := range []string{"alice1", "alice2", "bob1", "carol1"} {
		socks[name], ids[name] = e.connect(t, name[:len(name)-1])
	}

	tests := []struct {
		name string
		b    Broadcast
		want []string
	}{
		{name: "channel members only", b: Broadcast{ChannelID: "c1"}, want: []string{"alice1", "alice2", "bob1"}},
		{name: "channel without members", b: Broadcast{ChannelID: "empty"}},
		{name: "omit_users skips a member", b: Broadcast{ChannelID: "c1", OmitUsers: map[string]bool{"alice": true}}, want: []string{"bob1"}},
		{name: "omit_connection_id skips one socket", b: Broadcast{ChannelID: "c1", OmitConnectionID: ids["alice1"]}, want: []string{"alice2", "bob1"}},
		{name: "user_id reaches all of the user's sockets", b: Broadcast{UserID: "alice"}, want: []string{"alice1", "alice2"}},
		{name: "user_id wins over channel", b: Broadcast{UserID: "carol", ChannelID: "c1"}, want: []string{"carol1"}},
		{name: "user_id with omit_connection_id", b: Broadcast{UserID: "alice", OmitConnectionID: ids["alice2"]}, want: []string{"alice1"}},
		{name: "connection_id reaches one socket", b: Broadcast{ConnectionID: ids["alice2"]}, want: []string{"alice2"}},
		{name: "connection_id wins over everything", b: Broadcast{ConnectionID: ids["bob1"], UserID: "alice", OmitUsers: map[string]bool{"bob": true}}, want: []string{"bob1"}},
		{name: "unknown connection_id reaches nobody", b: Broadcast{ConnectionID: newID()}},
		{name: "team members", b: Broadcast{TeamID: "t1"}, want: []string{"alice1", "alice2", "carol1"}},
		{name: "channel wins over team", b: Broadcast{ChannelID: "c1", TeamID: "t1"}, want: []string{"alice1", "alice2", "bob1"}},
		{name: "no target reaches everyone", want: []string{"alice1", "alice2", "bob1", "carol1"}},
		{name: "no target with omit_users", b: Broadcast{OmitUsers: map[string]bool{"bob": true, "carol": true}}, want: []string{"alice1", "alice2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The case's event, then a marker for everyone: a socket that
			// reads the marker first did not get the event.
			e.publish(t, Event{Event: "case", Broadcast: tt.b, Data: map[string]any{"post": tt.name}})
			e.publish(t, Event{Event: "marker"})
			var got []string
			for name, c := range socks {
				c.t = t
				m := c.read()
				if m.Event == "case" {
					got = append(got, name)
					if m.marker(t) != tt.name {
						t.Fatalf("%s got %s", name, m.raw)
					}
					m = c.read()
				}
				if m.Event != "marker" {
					t.Fatalf("%s got %s, want the marker", name, m.raw)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("delivered to %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPublishMembershipErrorDeliversNothing(t *testing.T) {
	e := newTestEnv(t)
	e.members.setChannel("c1", "alice")
	c, _ := e.connect(t, "alice")
	boom := errors.New("cache down")
	e.members.mu.Lock()
	e.members.err = boom
	e.members.mu.Unlock()
	if err := e.hub.Publish(context.Background(), posted("c1", "lost")); !errors.Is(err, boom) {
		t.Fatalf("Publish: %v, want the membership error", err)
	}
	e.publish(t, Event{Event: "marker", Broadcast: Broadcast{UserID: "alice"}})
	if m := c.read(); m.Event != "marker" {
		t.Fatalf("got %s, want the marker only", m.raw)
	}
}

// recordingCluster records what the Hub forwards.
type recordingCluster struct {
	mu        sync.Mutex
	forwarded []Event
	fetch     func(ctx context.Context, userID, connectionID string) (Queue, bool, error)
}

func (r *recordingCluster) Forward(_ context.Context, ev Event) {
	r.mu.Lock()
	r.forwarded = append(r.forwarded, ev)
	r.mu.Unlock()
}

func (r *recordingCluster) FetchQueue(ctx context.Context, userID, connectionID string) (Queue, bool, error) {
	if r.fetch == nil {
		return Queue{}, false, nil
	}
	return r.fetch(ctx, userID, connectionID)
}

func (r *recordingCluster) events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var names []string
	for _, ev := range r.forwarded {
		names = append(names, ev.Event)
	}
	return names
}

func TestPublishForwardsAndPublishLocalDoesNot(t *testing.T) {
	e := newTestEnv(t)
	rc := &recordingCluster{}
	e.hub.SetCluster(rc)
	c, _ := e.connect(t, "alice")
	ctx := context.Background()

	if err := e.hub.Publish(ctx, Event{Event: "from_here", Broadcast: Broadcast{UserID: "alice"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.hub.PublishLocal(ctx, Event{Event: "from_peer", Broadcast: Broadcast{UserID: "alice"}}); err != nil {
		t.Fatal(err)
	}
	e.members.mu.Lock()
	e.members.err = errors.New("cache down")
	e.members.mu.Unlock()
	if err := e.hub.Publish(ctx, posted("c1", "x")); err == nil {
		t.Fatal("Publish without members succeeded")
	}
	if err := e.hub.Publish(ctx, Event{Event: "bad", Data: func() {}}); err == nil {
		t.Fatal("Publish of an unmarshallable event succeeded")
	}
	if err := e.hub.Publish(ctx, Event{Broadcast: Broadcast{UserID: "alice"}}); err == nil {
		t.Fatal("Publish of an event without a name succeeded")
	}

	if got, want := rc.events(), []string{"from_here", EventPosted}; !slices.Equal(got, want) {
		t.Errorf("forwarded %v, want %v (events from peers and invalid ones stay)", got, want)
	}
	for _, want := range []string{"from_here", "from_peer"} {
		if m := c.read(); m.Event != want {
			t.Fatalf("got %s, want %s delivered locally", m.raw, want)
		}
	}
	e.hub.SetCluster(nil)
	e.publish(t, Event{Event: "alone", Broadcast: Broadcast{UserID: "alice"}})
	if got := rc.events(); len(got) != 2 {
		t.Errorf("forwarded %v after SetCluster(nil)", got)
	}
}

func TestCloseSessionEndsItsSockets(t *testing.T) {
	e := newTestEnv(t)
	s1 := e.dial(t, dialOpts{header: "Bearer tok-alice:s1"})
	s2 := e.dial(t, dialOpts{header: "Bearer tok-alice:s2"})
	s1.read()
	s2.read()
	if n := e.hub.CloseSession("s1"); n != 1 {
		t.Fatalf("CloseSession ended %d connections, want 1", n)
	}
	if err := s1.expectClosed(nil); err == nil {
		t.Fatal("socket of the closed session still open")
	}
	e.publish(t, Event{Event: "still_here", Broadcast: Broadcast{UserID: "alice"}})
	if m := s2.read(); m.Event != "still_here" {
		t.Fatalf("other session got %s", m.raw)
	}
	waitFor(t, "one socket left", func() bool { return e.hub.UserSocketCount("alice") == 1 && e.hub.SocketCount() == 1 })
}
