package ws

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestHelloHasMattermostShape(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial(t, dialOpts{header: "Bearer tok-alice"})
	hello := c.read()

	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hello.raw, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"event", "data", "broadcast", "seq"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("hello %s lacks %q", hello.raw, k)
		}
	}
	var bc map[string]json.RawMessage
	if err := json.Unmarshal(raw["broadcast"], &bc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"omit_users", "user_id", "channel_id", "team_id", "connection_id", "omit_connection_id"} {
		if _, ok := bc[k]; !ok {
			t.Errorf("broadcast %s lacks %q", raw["broadcast"], k)
		}
	}
	var data helloData
	if err := json.Unmarshal(hello.Data, &data); err != nil {
		t.Fatal(err)
	}
	if hello.Event != "hello" || hello.seq(t) != 0 {
		t.Errorf("got event %q seq %d, want hello with seq 0", hello.Event, hello.seq(t))
	}
	if data.ServerVersion != "10.5.0.chorus.test.false" || data.ServerHostname != "test-host" || !isValidID(data.ConnectionID) {
		t.Errorf("hello data %s", hello.Data)
	}
	if hello.Broadcast.UserID != "alice" {
		t.Errorf("hello broadcast.user_id %q, want alice", hello.Broadcast.UserID)
	}
}

func TestAuthentication(t *testing.T) {
	tests := []struct {
		name      string
		opts      dialOpts
		challenge string // token sent in an authentication_challenge, if any
		wantUser  string // user of the hello; "" when the socket must close
	}{
		{name: "bearer header", opts: dialOpts{header: "Bearer tok-alice"}, wantUser: "alice"},
		{name: "token header", opts: dialOpts{header: "Token tok-alice"}, wantUser: "alice"},
		{name: "header prefix in any case", opts: dialOpts{header: "BEARER tok-alice"}, wantUser: "alice"},
		{name: "cookie", opts: dialOpts{cookie: "tok-bob"}, wantUser: "bob"},
		{name: "cookie wins over header", opts: dialOpts{cookie: "tok-bob", header: "Bearer tok-alice"}, wantUser: "bob"},
		{name: "challenge", challenge: "tok-carol", wantUser: "carol"},
		{name: "invalid header then challenge", opts: dialOpts{header: "Bearer nope"}, challenge: "tok-carol", wantUser: "carol"},
		{name: "invalid challenge closes", challenge: "nope"},
		{name: "empty challenge closes", challenge: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			c := e.dial(t, tt.opts)
			if tt.challenge != "" || tt.wantUser == "" {
				c.send(1, ActionAuthenticationChallenge, map[string]any{"token": tt.challenge})
			}
			if tt.wantUser == "" {
				if err := c.expectClosed(nil); err == nil {
					t.Fatal("socket not closed")
				}
				return
			}
			hello := c.read()
			if hello.Event != EventHello || hello.Broadcast.UserID != tt.wantUser {
				t.Fatalf("got %s, want hello for %s", hello.raw, tt.wantUser)
			}
			if tt.challenge != "" {
				r := c.read()
				if r.Status != "OK" || r.SeqReply != 1 || r.Event != "" {
					t.Fatalf("challenge reply %s, want OK for seq 1", r.raw)
				}
			}
			waitFor(t, "the user's socket counted", func() bool { return e.hub.UserSocketCount(tt.wantUser) == 1 })
		})
	}
}

func TestChallengeTimeoutClosesSocket(t *testing.T) {
	e := newTestEnv(t, func(c *Config, _ *Deps) { c.AuthTimeout = 50 * time.Millisecond })
	c := e.dial(t, dialOpts{})
	// Requests other than the challenge do not extend the deadline.
	c.send(1, ActionPing, nil)
	notAuth := func(m msg) bool {
		return m.Status == "FAIL" && m.Error != nil && m.Error.ID == errNotAuthenticated.ID
	}
	if err := c.expectClosed(notAuth); err == nil {
		t.Fatal("socket not closed")
	}
	if n := e.hub.connCount(); n != 0 {
		t.Errorf("hub holds %d connections, want 0", n)
	}
}

func TestChallengeOnAuthenticatedSocketIsIgnored(t *testing.T) {
	e := newTestEnv(t)
	c, _ := e.connect(t, "alice")
	c.send(1, ActionAuthenticationChallenge, map[string]any{"token": "tok-bob"})
	c.send(2, ActionPing, nil)
	if r := c.read(); r.SeqReply != 2 {
		t.Fatalf("got %s, want only the reply to ping (seq 2)", r.raw)
	}
}

func TestUpgradeErrorsAreAppErrors(t *testing.T) {
	e := newTestEnv(t)
	httpURL := "http" + strings.TrimPrefix(e.url, "ws")
	tests := []struct {
		name       string
		query      string
		websocket  bool
		wantStatus int
	}{
		{name: "not a websocket handshake", wantStatus: http.StatusBadRequest},
		{name: "malformed connection_id", query: "?connection_id=abc&sequence_number=1", websocket: true, wantStatus: http.StatusBadRequest},
		{name: "missing sequence_number", query: "?connection_id=" + newID(), websocket: true, wantStatus: http.StatusBadRequest},
		{name: "negative sequence_number", query: "?connection_id=" + newID() + "&sequence_number=-1", websocket: true, wantStatus: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, httpURL+tt.query, nil)
			if tt.websocket {
				req.Header.Set("Connection", "Upgrade")
				req.Header.Set("Upgrade", "websocket")
				req.Header.Set("Sec-WebSocket-Version", "13")
				req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want exactly application/json", ct)
			}
			var ae AppError
			if err := json.Unmarshal(body, &ae); err != nil || ae.ID != "api.web_socket.connect.upgrade.app_error" || ae.StatusCode != tt.wantStatus {
				t.Errorf("body %s, want the upgrade AppError", body)
			}
		})
	}
}

func TestBadFramesCloseSocket(t *testing.T) {
	tests := []struct {
		name     string
		typ      int
		payload  []byte
		wantCode int
	}{
		{name: "larger than the read limit", typ: websocket.TextMessage,
			payload:  []byte(`{"seq":1,"action":"ping","data":{"pad":"` + strings.Repeat("x", 9000) + `"}}`),
			wantCode: websocket.CloseMessageTooBig},
		{name: "binary frame", typ: websocket.BinaryMessage, payload: []byte{0x81, 0xa3}, wantCode: websocket.CloseUnsupportedData},
		{name: "not JSON", typ: websocket.TextMessage, payload: []byte(`{"seq":1,`), wantCode: websocket.CloseInvalidFramePayloadData},
		{name: "data not an object", typ: websocket.TextMessage, payload: []byte(`{"seq":1,"action":"ping","data":"x"}`), wantCode: websocket.CloseInvalidFramePayloadData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			c, _ := e.connect(t, "alice")
			if err := c.ws.WriteMessage(tt.typ, tt.payload); err != nil {
				t.Fatal(err)
			}
			err := c.expectClosed(nil)
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != tt.wantCode {
				t.Fatalf("closed with %v, want close code %d", err, tt.wantCode)
			}
		})
	}
}

func TestServerSendsPings(t *testing.T) {
	e := newTestEnv(t, func(c *Config, _ *Deps) { c.PingInterval = 10 * time.Millisecond })
	c, _ := e.connect(t, "alice")
	pinged := make(chan struct{}, 1)
	c.ws.SetPingHandler(func(string) error {
		select {
		case pinged <- struct{}{}:
		default:
		}
		return nil
	})
	go func() { _, _, _ = c.ws.ReadMessage() }() // control frames are handled while reading
	select {
	case <-pinged:
	case <-time.After(longStop):
		t.Fatal("no ping from the server")
	}
}

func TestTokenFromRequest(t *testing.T) {
	tests := []struct {
		name   string
		header string
		cookie string
		want   string
	}{
		{name: "none"},
		{name: "bearer", header: "Bearer abc", want: "abc"},
		{name: "token", header: "token abc", want: "abc"},
		{name: "bearer without token", header: "Bearer", want: ""},
		{name: "basic is not a session", header: "Basic abc", want: ""},
		{name: "cookie first", header: "Bearer abc", cookie: "def", want: "def"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodGet, "/api/v4/websocket", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: sessionCookie, Value: tt.cookie})
			}
			if got := tokenFromRequest(r); got != tt.want {
				t.Errorf("token %q, want %q", got, tt.want)
			}
		})
	}
}
