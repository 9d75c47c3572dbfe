package ws

import (
	"encoding/json"
	"testing"
)

func TestEventFrameSplicesSeq(t *testing.T) {
	ev := Event{
		Event:     EventPosted,
		Data:      map[string]any{"post": `{"id":"p1","message":"<hi> & \"bye\""}`, "channel_type": "O"},
		Broadcast: Broadcast{ChannelID: "c1", OmitUsers: map[string]bool{"u1": true}},
	}
	f, err := newEventFrame(ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, seq := range []int64{0, 7, 1 << 40} {
		wire := f.appendWire(nil, seq)
		var got struct {
			Event
			Seq *int64 `json:"seq"`
		}
		if err := json.Unmarshal(wire, &got); err != nil {
			t.Fatalf("wire %s: %v", wire, err)
		}
		if got.Seq == nil || *got.Seq != seq || got.Event.Event != EventPosted || got.Broadcast.ChannelID != "c1" ||
			!got.Broadcast.OmitUsers["u1"] || got.Data.(map[string]any)["post"] != ev.Data.(map[string]any)["post"] {
			t.Errorf("wire %s does not carry the event with seq %d", wire, seq)
		}
	}
	// Without seq, as handed to another node, and back.
	back, err := eventFrameFromJSON(f.event, f.eventJSON())
	if err != nil {
		t.Fatal(err)
	}
	if string(back.appendWire(nil, 3)) != string(f.appendWire(nil, 3)) || back.droppable != f.droppable {
		t.Errorf("round trip through eventJSON changed the frame: %s", back.body)
	}
}

func TestEventFrameNilDataIsEmptyObject(t *testing.T) {
	f, err := newEventFrame(Event{Event: "x"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"event":"x","data":{},"broadcast":{"omit_users":null,"user_id":"","channel_id":"","team_id":"","connection_id":"","omit_connection_id":""},"seq":5}`
	if got := string(f.appendWire(nil, 5)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestDroppableEvents(t *testing.T) {
	for name, want := range map[string]bool{
		EventTyping: true, EventStatusChange: true, EventChannelViewed: true,
		EventPosted: false, EventHello: false, "post_edited": false,
	} {
		if got := isDroppable(name); got != want {
			t.Errorf("isDroppable(%q) = %v, want %v", name, got, want)
		}
	}
}
