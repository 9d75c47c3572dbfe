package ws

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Event names with a meaning to ws. Other names pass through untouched.
const (
	// EventHello opens every new connection (seq 0).
	EventHello = "hello"
	// EventPosted carries a new post; the app publishes it.
	EventPosted = "posted"
	// EventTyping is dropped first under pressure.
	EventTyping = "typing"
	// EventStatusChange is dropped first under pressure.
	EventStatusChange = "status_change"
	// EventChannelViewed is dropped first under pressure.
	EventChannelViewed = "channel_viewed"
)

// Event is a server event in Mattermost's shape (model.WebSocketEvent):
// {"event","data","broadcast","seq"}. The seq is not part of it: each
// connection numbers the events it is sent itself.
//
// An Event is published by value, but Data and Broadcast.OmitUsers are
// references: whoever publishes must not modify them afterwards (a
// [Cluster] may still be marshalling them). Event marshals to the wire
// shape without seq and back, so the cluster can forward it as JSON.
type Event struct {
	// Event is the event's name, e.g. "posted".
	Event string `json:"event"`
	// Data is marshalled with encoding/json as the event's "data"; nil
	// sends {}. A json.RawMessage is sent as is.
	Data any `json:"data"`
	// Broadcast says who receives the event.
	Broadcast Broadcast `json:"broadcast"`
}

// Broadcast selects the receivers of an [Event], as Mattermost's
// model.WebsocketBroadcast does; all six keys are always sent. The first
// rule that applies decides:
//  1. ConnectionID set: that connection only.
//  2. A connection whose id is OmitConnectionID is skipped.
//  3. UserID set: that user's connections only.
//  4. Users in OmitUsers are skipped (presence of the key counts).
//  5. ChannelID set: the channel's members ([Membership.ChannelMembers]).
//  6. TeamID set: the team's members ([Membership.TeamMembers]).
//  7. Otherwise every connection on the node.
type Broadcast struct {
	OmitUsers        map[string]bool `json:"omit_users"`
	UserID           string          `json:"user_id"`
	ChannelID        string          `json:"channel_id"`
	TeamID           string          `json:"team_id"`
	ConnectionID     string          `json:"connection_id"`
	OmitConnectionID string          `json:"omit_connection_id"`
}

// frame is one message ready for the wire, shared by every connection it
// is sent to and never modified once built.
type frame struct {
	// event is the event's name; "" for a reply.
	event string
	// reply marks a reply: it takes no seq and is never replayed.
	reply bool
	// body is, for an event, its JSON up to and including `,"seq":`, so a
	// writer appends the connection's seq and "}"; for a reply, the whole
	// JSON.
	body []byte
	// droppable marks events dropped when a queue is half full.
	droppable bool
}

// seqKey ends every event body: the writer appends digits and "}".
const seqKey = `,"seq":`

// emptyData is what a nil Data is sent as, as Mattermost sends an empty
// map.
var emptyData = json.RawMessage(`{}`)

// newEventFrame marshals ev once for every connection it goes to.
func newEventFrame(ev Event) (*frame, error) {
	if ev.Event == "" {
		return nil, errors.New("ws: event without a name")
	}
	if ev.Data == nil {
		ev.Data = emptyData
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("marshalling event %q: %w", ev.Event, err)
	}
	return eventFrameFromJSON(ev.Event, b)
}

// eventFrameFromJSON turns an event's JSON object without seq into a frame.
func eventFrameFromJSON(name string, obj []byte) (*frame, error) {
	if name == "" {
		return nil, errors.New("ws: event without a name")
	}
	obj = bytes.TrimRight(obj, " \t\r\n")
	if len(obj) < 2 || obj[0] != '{' || obj[len(obj)-1] != '}' || !json.Valid(obj) {
		return nil, errors.New("ws: event is not a JSON object")
	}
	if len(bytes.TrimSpace(obj[1:len(obj)-1])) == 0 {
		return nil, errors.New("ws: event is an empty JSON object")
	}
	body := make([]byte, 0, len(obj)-1+len(seqKey))
	body = append(body, obj[:len(obj)-1]...)
	body = append(body, seqKey...)
	return &frame{event: name, body: body, droppable: isDroppable(name)}, nil
}

// eventJSON returns the event as sent, without its seq: the inverse of
// eventFrameFromJSON.
func (f *frame) eventJSON() json.RawMessage {
	n := len(f.body) - len(seqKey)
	out := make([]byte, n+1)
	copy(out, f.body[:n])
	out[n] = '}'
	return out
}

// appendWire appends the frame as sent with seq (events) or as is
// (replies) to dst.
func (f *frame) appendWire(dst []byte, seq int64) []byte {
	dst = append(dst, f.body...)
	if f.reply {
		return dst
	}
	dst = strconv.AppendInt(dst, seq, 10)
	return append(dst, '}')
}

// isDroppable reports whether events named name are dropped first when a
// connection's queue is half full (Mattermost's list).
func isDroppable(name string) bool {
	switch name {
	case EventTyping, EventStatusChange, EventChannelViewed:
		return true
	}
	return false
}

// helloData is the hello event's data.
type helloData struct {
	ServerVersion  string `json:"server_version"`
	ConnectionID   string `json:"connection_id"`
	ServerHostname string `json:"server_hostname,omitempty"`
}

// newHelloFrame builds the hello event of connection connID of userID.
func (h *Hub) newHelloFrame(userID, connID string) *frame {
	f, err := newEventFrame(Event{
		Event: EventHello,
		Data: helloData{
			ServerVersion:  h.cfg.ServerVersion,
			ConnectionID:   connID,
			ServerHostname: h.hostname,
		},
		Broadcast: Broadcast{UserID: userID},
	})
	if err != nil { // cannot happen: strings only
		panic(err)
	}
	return f
}
