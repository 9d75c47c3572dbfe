package ws

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
)

func TestEventSeqIncrementsPerConnection(t *testing.T) {
	e := newTestEnv(t)
	e.members.setChannel("c1", "alice", "bob")
	a, _ := e.connect(t, "alice")
	for i := range 3 { // bob's connection numbers only its own events
		e.publish(t, Event{Event: "custom", Broadcast: Broadcast{UserID: "alice"}, Data: map[string]any{"post": i}})
	}
	b, _ := e.connect(t, "bob")
	for range 3 {
		a.read()
	}
	for i := range 5 {
		e.publish(t, posted("c1", "p"))
		for _, c := range []*client{a, b} {
			m := c.read()
			want := int64(i + 1)
			if c == a {
				want += 3
			}
			if m.seq(t) != want {
				t.Fatalf("event %d: seq %d, want %d", i, m.seq(t), want)
			}
		}
	}
}

func TestReplies(t *testing.T) {
	actions := ActionHandlerFunc(func(_ context.Context, c ConnInfo, req Request) (any, error) {
		switch req.Action {
		case ActionGetStatuses:
			return map[string]string{c.UserID: "online"}, nil
		case "echo":
			return json.RawMessage(req.Data), nil
		case "fail_app":
			return nil, &AppError{ID: "api.websocket_handler.invalid_param.app_error", Message: "Invalid channel_id parameter.",
				DetailedError: "secret detail", StatusCode: http.StatusBadRequest}
		case "fail_plain":
			return nil, errors.New("database down")
		case "fail_typed_nil":
			var ae *AppError
			return nil, ae
		}
		return nil, ErrUnknownAction
	})
	tests := []struct {
		name       string
		seq        int64
		action     string
		data       any
		wantStatus string
		wantData   string // JSON, compared as is; "" means no data
		wantErrID  string
		wantCode   int
	}{
		{name: "handler data", seq: 3, action: ActionGetStatuses, wantStatus: "OK", wantData: `{"alice":"online"}`},
		{name: "handler gets the request data", seq: 4, action: "echo", data: map[string]any{"x": 1}, wantStatus: "OK", wantData: `{"x":1}`},
		{name: "handler AppError without detail", seq: 5, action: "fail_app", wantStatus: "FAIL",
			wantErrID: "api.websocket_handler.invalid_param.app_error", wantCode: 400},
		{name: "handler plain error is internal", seq: 6, action: "fail_plain", wantStatus: "FAIL",
			wantErrID: errHandler.ID, wantCode: 500},
		{name: "handler typed nil AppError is internal", seq: 7, action: "fail_typed_nil", wantStatus: "FAIL",
			wantErrID: errHandler.ID, wantCode: 500},
		{name: "unknown action", seq: 8, action: "nope", wantStatus: "FAIL", wantErrID: errBadAction.ID, wantCode: 500},
		{name: "empty action", seq: 9, action: "", wantStatus: "FAIL", wantErrID: errNoAction.ID, wantCode: 400},
		{name: "zero seq", seq: 0, action: ActionPing, wantStatus: "FAIL", wantErrID: errBadSeq.ID, wantCode: 400},
		{name: "negative seq", seq: -2, action: ActionPing, wantStatus: "FAIL", wantErrID: errBadSeq.ID, wantCode: 400},
	}
	e := newTestEnv(t, func(_ *Config, d *Deps) { d.Actions = actions })
	c, _ := e.connect(t, "alice")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			c.send(tt.seq, tt.action, tt.data)
			r := c.read()
			var raw map[string]json.RawMessage
			_ = json.Unmarshal(r.raw, &raw)
			if r.Status != tt.wantStatus || r.Event != "" || r.Seq != nil {
				t.Fatalf("reply %s, want status %s and no event fields", r.raw, tt.wantStatus)
			}
			if r.SeqReply != tt.seq {
				t.Errorf("seq_reply %d, want %d", r.SeqReply, tt.seq)
			}
			if _, has := raw["seq_reply"]; has != (tt.seq != 0) {
				t.Errorf("reply %s: seq_reply present %v, want %v (omitempty)", r.raw, has, tt.seq != 0)
			}
			if got := string(raw["data"]); got != tt.wantData {
				t.Errorf("data %s, want %s", got, tt.wantData)
			}
			if tt.wantErrID == "" {
				if r.Error != nil {
					t.Errorf("unexpected error %+v", r.Error)
				}
				return
			}
			if r.Error == nil || r.Error.ID != tt.wantErrID || r.Error.StatusCode != tt.wantCode || r.Error.DetailedError != "" {
				t.Errorf("error %s, want id %s, status %d, no detail", raw["error"], tt.wantErrID, tt.wantCode)
			}
		})
	}
}

func TestPingAction(t *testing.T) {
	e := newTestEnv(t)
	c, _ := e.connect(t, "alice")
	c.send(1, ActionPing, nil)
	r := c.read()
	var d map[string]any
	if err := json.Unmarshal(r.Data, &d); err != nil {
		t.Fatal(err)
	}
	if r.Status != "OK" || r.SeqReply != 1 || d["text"] != "pong" || d["version"] != "10.5.0" || d["node_id"] != "node-1" {
		t.Fatalf("ping reply %s", r.raw)
	}
	if st, ok := d["server_time"].(float64); !ok || st <= 0 {
		t.Errorf("server_time %v, want milliseconds since the epoch", d["server_time"])
	}
}

func TestNoActionHandlerMeansUnknownAction(t *testing.T) {
	e := newTestEnv(t)
	c, _ := e.connect(t, "alice")
	c.send(1, ActionUserTyping, map[string]any{"channel_id": "c1"})
	if r := c.read(); r.Error == nil || r.Error.ID != errBadAction.ID {
		t.Fatalf("reply %s, want bad_action", r.raw)
	}
}

// TestTypingReachesChannelButNotSender runs the user_typing flow as the
// app will: the handler publishes a typing event omitting the sender.
func TestTypingReachesChannelButNotSender(t *testing.T) {
	var e *testEnv
	actions := ActionHandlerFunc(func(ctx context.Context, c ConnInfo, req Request) (any, error) {
		var d struct {
			ChannelID string `json:"channel_id"`
			ParentID  string `json:"parent_id"`
		}
		if err := json.Unmarshal(req.Data, &d); err != nil {
			return nil, err
		}
		return nil, e.hub.Publish(ctx, Event{
			Event:     EventTyping,
			Data:      map[string]any{"parent_id": d.ParentID, "user_id": c.UserID},
			Broadcast: Broadcast{ChannelID: d.ChannelID, OmitUsers: map[string]bool{c.UserID: true}},
		})
	})
	e = newTestEnv(t, func(_ *Config, d *Deps) { d.Actions = actions })
	e.members.setChannel("c1", "alice", "bob")
	alice, _ := e.connect(t, "alice")
	bob, _ := e.connect(t, "bob")

	alice.send(1, ActionUserTyping, map[string]any{"channel_id": "c1", "parent_id": ""})
	if r := alice.read(); r.Status != "OK" || r.SeqReply != 1 {
		t.Fatalf("alice got %s, want only the OK reply", r.raw)
	}
	m := bob.read()
	var d map[string]string
	_ = json.Unmarshal(m.Data, &d)
	if m.Event != EventTyping || d["user_id"] != "alice" || m.Broadcast.ChannelID != "c1" || !m.Broadcast.OmitUsers["alice"] {
		t.Fatalf("bob got %s, want alice typing in c1", m.raw)
	}
}
