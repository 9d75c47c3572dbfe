package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/seed331fb32b/chorus/node/app"
)

// wsFrame is any frame the server sends: an event or a reply.
type wsFrame struct {
	Event     string          `json:"event"`
	Data      json.RawMessage `json:"data"`
	Broadcast map[string]any  `json:"broadcast"`
	Seq       *int64          `json:"seq"`
	Status    string          `json:"status"`
	SeqReply  int64           `json:"seq_reply"`
	Error     map[string]any  `json:"error"`
}

// wsClient is a test's WebSocket to a node over real HTTP.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	seq  int64
}

// serve starts an HTTP server for the node, stopped at the end of the test.
func (n *testNode) serve(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(n.handler)
	t.Cleanup(func() {
		n.hub.Close() // hijacked sockets keep the server's Close waiting otherwise
		srv.Close()
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v4/websocket"
}

// dial opens a socket with header.
func dial(t *testing.T, url string, header http.Header) *wsClient {
	t.Helper()
	conn, res, err := websocket.DefaultDialer.DialContext(t.Context(), url, header)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, res)
	}
	t.Cleanup(func() { conn.Close() })
	return &wsClient{t: t, conn: conn}
}

// dialAs opens a socket authenticated by acc's token in the header.
func dialAs(t *testing.T, url string, acc *account) *wsClient {
	return dial(t, url, http.Header{"Authorization": {"Bearer " + acc.token}})
}

// next returns the next frame, failing after ten seconds.
func (c *wsClient) next() wsFrame {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var f wsFrame
	if err := c.conn.ReadJSON(&f); err != nil {
		c.t.Fatalf("reading a frame: %v", err)
	}
	return f
}

// until returns the first frame for which match holds, skipping others.
func (c *wsClient) until(what string, match func(wsFrame) bool) wsFrame {
	c.t.Helper()
	for range 100 {
		if f := c.next(); match(f) {
			return f
		}
	}
	c.t.Fatalf("no %s in 100 frames", what)
	return wsFrame{}
}

// event returns the next event named name.
func (c *wsClient) event(name string) wsFrame {
	c.t.Helper()
	return c.until("event "+name, func(f wsFrame) bool { return f.Event == name })
}

// send sends an action and returns its seq.
func (c *wsClient) send(action string, data any) int64 {
	c.t.Helper()
	c.seq++
	if err := c.conn.WriteJSON(map[string]any{"seq": c.seq, "action": action, "data": data}); err != nil {
		c.t.Fatal(err)
	}
	return c.seq
}

// reply returns the reply to seq.
func (c *wsClient) reply(seq int64) wsFrame {
	c.t.Helper()
	return c.until("reply", func(f wsFrame) bool { return f.SeqReply == seq })
}

func TestWebSocketDeliversPostedTypingAndStatus(t *testing.T) {
	w := newWorld(t)
	url := w.n.serve(t)
	bob := dialAs(t, url, w.bob)
	hello := bob.event("hello")
	var hd map[string]string
	if err := json.Unmarshal(hello.Data, &hd); err != nil {
		t.Fatal(err)
	}
	if hello.Seq == nil || *hello.Seq != 0 || !app.IsValidID(hd["connection_id"]) || hd["server_version"] != "chorus.test" ||
		hello.Broadcast["user_id"] != w.bob.user.ID {
		t.Errorf("hello = %+v %v", hello, hd)
	}
	if st := bob.event("status_change"); !strings.Contains(string(st.Data), `"status":"online"`) {
		t.Errorf("bob's own status_change = %s", st.Data)
	}
	alice := dialAs(t, url, w.alice)
	alice.event("hello")

	p := w.post(t, w.alice, w.channel.ID, "hello bob")
	posted := bob.event("posted")
	var data map[string]any
	if err := json.Unmarshal(posted.Data, &data); err != nil {
		t.Fatal(err)
	}
	var got app.Post
	if err := json.Unmarshal([]byte(data["post"].(string)), &got); err != nil {
		t.Fatalf("data.post is not a post as a JSON string: %v", data["post"])
	}
	if got.ID != p.ID || got.Message != "hello bob" || data["channel_type"] != "O" || data["channel_display_name"] != "Dev" ||
		data["channel_name"] != "dev" || data["sender_name"] != "@alice" || data["team_id"] != w.team.ID ||
		posted.Broadcast["channel_id"] != w.channel.ID {
		t.Errorf("posted = %s %v", posted.Data, posted.Broadcast)
	}
	alice.event("posted") // the poster's own sockets get it too

	seq := alice.send("user_typing", map[string]string{"channel_id": w.channel.ID, "parent_id": ""})
	if r := alice.reply(seq); r.Status != "OK" {
		t.Errorf("user_typing reply = %+v", r)
	}
	typing := bob.event("typing")
	if string(typing.Data) != `{"parent_id":"","user_id":"`+w.alice.user.ID+`"}` {
		t.Errorf("typing data = %s", typing.Data)
	}
	// The typist gets no typing event: the next event alice sees is the
	// next post.
	w.post(t, w.bob, w.channel.ID, "sentinel")
	if f := alice.until("an event", func(f wsFrame) bool { return f.Event != "" && f.Event != "status_change" }); f.Event != "posted" {
		t.Errorf("alice got %q before the next post", f.Event)
	}

	seq = bob.send("get_statuses_by_ids", map[string]any{"user_ids": []string{w.alice.user.ID, w.eve.user.ID}})
	r := bob.reply(seq)
	if r.Status != "OK" || !strings.Contains(string(r.Data), `"`+w.eve.user.ID+`":"offline"`) ||
		!strings.Contains(string(r.Data), `"`+w.alice.user.ID+`":"online"`) {
		t.Errorf("get_statuses_by_ids reply = %+v %s", r, r.Data)
	}
	seq = bob.send("get_statuses", nil)
	if r := bob.reply(seq); r.Status != "OK" || !strings.Contains(string(r.Data), w.bob.user.ID) {
		t.Errorf("get_statuses reply = %+v %s", r, r.Data)
	}
}

func TestWebSocketActionErrors(t *testing.T) {
	w := newWorld(t)
	bob := dialAs(t, w.n.serve(t), w.bob)
	bob.event("hello")
	tests := []struct {
		action string
		data   any
		wantID string
	}{
		{"user_typing", map[string]string{"channel_id": "nope"}, "api.websocket_handler.invalid_param.app_error"},
		{"user_typing", map[string]string{"channel_id": app.NewID()}, "api.websocket_handler.invalid_param.app_error"},
		{"get_statuses_by_ids", map[string]any{"user_ids": []string{}}, "api.websocket_handler.invalid_param.app_error"},
		{"no_such_action", nil, "api.web_socket_router.bad_action.app_error"},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			bob.t = t
			r := bob.reply(bob.send(tt.action, tt.data))
			if r.Status != "FAIL" || r.Error["id"] != tt.wantID {
				t.Errorf("reply = %+v", r)
			}
		})
	}
}

func TestWebSocketAuthentication(t *testing.T) {
	w := newWorld(t)
	url := w.n.serve(t)
	t.Run("authentication challenge", func(t *testing.T) {
		c := dial(t, url, nil)
		seq := c.send("authentication_challenge", map[string]string{"token": w.alice.token})
		c.event("hello")
		if r := c.reply(seq); r.Status != "OK" {
			t.Errorf("challenge reply = %+v", r)
		}
	})
	t.Run("session cookie at upgrade", func(t *testing.T) {
		c := dial(t, url, http.Header{"Cookie": {"MMAUTHTOKEN=" + w.bob.token}})
		c.event("hello")
	})
	t.Run("a bad challenge closes the socket", func(t *testing.T) {
		c := dial(t, url, nil)
		c.send("authentication_challenge", map[string]string{"token": app.NewID()})
		_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, _, err := c.conn.ReadMessage(); err == nil || strings.Contains(err.Error(), "timeout") {
			t.Errorf("read after a bad challenge: %v, want the socket closed", err)
		}
	})
	t.Run("logout closes the session's sockets", func(t *testing.T) {
		eve := dialAs(t, url, w.eve)
		eve.event("hello")
		w.mustDo(t, w.eve, http.MethodPost, "/api/v4/users/logout", nil, http.StatusOK)
		_ = eve.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			if _, _, err := eve.conn.ReadMessage(); err != nil {
				if strings.Contains(err.Error(), "timeout") {
					t.Errorf("socket still open after logout")
				}
				return
			}
		}
	})
	t.Run("trailing slash route", func(t *testing.T) {
		c := dial(t, url+"/", http.Header{"Authorization": {"Token " + w.alice.token}})
		c.event("hello")
	})
}
