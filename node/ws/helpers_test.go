package ws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap/zaptest"
)

// longStop bounds every wait in these tests; reaching it is a failure.
const longStop = 10 * time.Second

// testConfig is DefaultConfig with names the tests check.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Version = "10.5.0"
	cfg.ServerVersion = "10.5.0.chorus.test.false"
	cfg.Hostname = "test-host"
	cfg.NodeID = "node-1"
	return cfg
}

// testAuth accepts tokens "tok-<user>" (session "sess-<user>") and
// "tok-<user>:<session>".
var testAuth = AuthenticatorFunc(func(_ context.Context, token string) (string, string, error) {
	rest, ok := strings.CutPrefix(token, "tok-")
	if !ok || rest == "" {
		return "", "", errors.New("invalid token")
	}
	if user, sess, ok := strings.Cut(rest, ":"); ok {
		return user, sess, nil
	}
	return rest, "sess-" + rest, nil
})

// testMembers holds channel and team members in memory, handing out
// snapshots as the Membership contract asks.
type testMembers struct {
	mu       sync.Mutex
	channels map[string]map[string]struct{}
	teams    map[string]map[string]struct{}
	err      error
}

func newTestMembers() *testMembers {
	return &testMembers{channels: map[string]map[string]struct{}{}, teams: map[string]map[string]struct{}{}}
}

func (m *testMembers) setChannel(id string, users ...string) { m.set(m.channels, id, users) }
func (m *testMembers) setTeam(id string, users ...string)    { m.set(m.teams, id, users) }

func (m *testMembers) set(sets map[string]map[string]struct{}, id string, users []string) {
	s := make(map[string]struct{}, len(users))
	for _, u := range users {
		s[u] = struct{}{}
	}
	m.mu.Lock()
	sets[id] = s
	m.mu.Unlock()
}

func (m *testMembers) ChannelMembers(_ context.Context, id string) (map[string]struct{}, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.channels[id], m.err
}

func (m *testMembers) TeamMembers(_ context.Context, id string) (map[string]struct{}, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.teams[id], m.err
}

// fakeClock is the clock of connection expiry, moved by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// testEnv is a Hub behind a real HTTP server on loopback.
type testEnv struct {
	hub     *Hub
	srv     *httptest.Server
	url     string // ws://…/api/v4/websocket
	members *testMembers
	clock   *fakeClock
}

// envOption adjusts a test Hub's config and deps before New.
type envOption func(*Config, *Deps)

// newTestEnv starts a Hub with testConfig and testAuth; both stop at the
// end of the test.
func newTestEnv(t testing.TB, opts ...envOption) *testEnv {
	t.Helper()
	return newTestEnvListener(t, nil, opts...)
}

// newTestEnvListener is newTestEnv with the server's listener wrapped.
func newTestEnvListener(t testing.TB, wrap func(net.Listener) net.Listener, opts ...envOption) *testEnv {
	t.Helper()
	e := &testEnv{members: newTestMembers(), clock: &fakeClock{now: time.Unix(1700000000, 0)}}
	cfg := testConfig()
	deps := Deps{Auth: testAuth, Members: e.members, Logger: zaptest.NewLogger(t)}
	for _, o := range opts {
		o(&cfg, &deps)
	}
	h, err := newHub(cfg, deps, e.clock.Now)
	if err != nil {
		t.Fatalf("newHub: %v", err)
	}
	e.hub = h
	mux := http.NewServeMux()
	mux.Handle("GET /api/v4/websocket", h)
	e.srv = httptest.NewUnstartedServer(mux)
	if wrap != nil {
		e.srv.Listener = wrap(e.srv.Listener)
	}
	e.srv.Start()
	e.url = "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/api/v4/websocket"
	t.Cleanup(func() {
		_ = h.Close()
		e.srv.Close()
	})
	return e
}

// dialOpts say how a test client connects.
type dialOpts struct {
	header string // Authorization header value
	cookie string // MMAUTHTOKEN cookie value
	connID string // connection_id to resume
	seq    int64  // sequence_number
	dialer *websocket.Dialer
}

// client is a test's end of a socket.
type client struct {
	t  testing.TB
	ws *websocket.Conn
}

// dial connects to the env's Hub, failing the test on error.
func (e *testEnv) dial(t testing.TB, o dialOpts) *client {
	t.Helper()
	c, resp, err := e.tryDial(o)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial: %v (status %d)", err, status)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &client{t: t, ws: c}
}

// tryDial connects and returns the handshake response.
func (e *testEnv) tryDial(o dialOpts) (*websocket.Conn, *http.Response, error) {
	u := e.url
	if o.connID != "" {
		u += "?" + url.Values{"connection_id": {o.connID}, "sequence_number": {fmt.Sprint(o.seq)}}.Encode()
	}
	h := http.Header{}
	if o.header != "" {
		h.Set("Authorization", o.header)
	}
	if o.cookie != "" {
		h.Set("Cookie", sessionCookie+"="+o.cookie)
	}
	d := o.dialer
	if d == nil {
		d = websocket.DefaultDialer
	}
	ctx, cancel := context.WithTimeout(context.Background(), longStop)
	defer cancel()
	c, resp, err := d.DialContext(ctx, u, h)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	return c, resp, err
}

// connect dials with a bearer token for user and reads the hello.
func (e *testEnv) connect(t testing.TB, user string) (*client, string) {
	t.Helper()
	c := e.dial(t, dialOpts{header: "Bearer tok-" + user})
	hello := c.read()
	if hello.Event != EventHello {
		t.Fatalf("first message %s, want hello", hello.raw)
	}
	return c, hello.connectionID(t)
}

// msg is any server message: an event or a reply.
type msg struct {
	Event     string          `json:"event"`
	Data      json.RawMessage `json:"data"`
	Broadcast *Broadcast      `json:"broadcast"`
	Seq       *int64          `json:"seq"`
	Status    string          `json:"status"`
	SeqReply  int64           `json:"seq_reply"`
	Error     *AppError       `json:"error"`
	raw       []byte
}

// seq returns the event's seq, failing when there is none.
func (m msg) seq(t testing.TB) int64 {
	t.Helper()
	if m.Seq == nil {
		t.Fatalf("message without seq: %s", m.raw)
	}
	return *m.Seq
}

// connectionID returns a hello's connection_id.
func (m msg) connectionID(t testing.TB) string {
	t.Helper()
	var d helloData
	if err := json.Unmarshal(m.Data, &d); err != nil || d.ConnectionID == "" {
		t.Fatalf("hello without connection_id: %s", m.raw)
	}
	return d.ConnectionID
}

// read returns the next message, failing after longStop.
func (c *client) read() msg {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(longStop))
	typ, b, err := c.ws.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	if typ != websocket.TextMessage {
		c.t.Fatalf("message type %d, want text", typ)
	}
	var m msg
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatalf("message %q is not JSON: %v", b, err)
	}
	m.raw = b
	return m
}

// send sends an action request.
func (c *client) send(seq int64, action string, data any) {
	c.t.Helper()
	req := map[string]any{"seq": seq, "action": action}
	if data != nil {
		req["data"] = data
	}
	if err := c.ws.WriteJSON(req); err != nil {
		c.t.Fatalf("send %s: %v", action, err)
	}
}

// expectClosed reads until the server ends the socket, failing on any
// message other than those allowed by skip, and returns the close error.
func (c *client) expectClosed(skip func(msg) bool) error {
	c.t.Helper()
	for {
		_ = c.ws.SetReadDeadline(time.Now().Add(longStop))
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.t.Fatalf("socket still open after %v", longStop)
			}
			return err
		}
		var m msg
		_ = json.Unmarshal(b, &m)
		m.raw = b
		if skip == nil || !skip(m) {
			c.t.Fatalf("got %s, want the socket closed", b)
		}
	}
}

// waitFor polls cond until it holds, failing with what after longStop.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(longStop)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// connCount returns how many connections the Hub holds, open or not.
func (h *Hub) connCount() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.byID)
}

// publish publishes ev, failing the test on error.
func (e *testEnv) publish(t testing.TB, ev Event) {
	t.Helper()
	if err := e.hub.Publish(context.Background(), ev); err != nil {
		t.Fatalf("Publish: %v", err)
	}
}

// posted is a posted event for channel with a marker in its data.
func posted(channel, marker string) Event {
	return Event{Event: EventPosted, Data: map[string]any{"post": marker}, Broadcast: Broadcast{ChannelID: channel}}
}

// marker returns a test event's data.post.
func (m msg) marker(t testing.TB) string {
	t.Helper()
	var d struct {
		Post string `json:"post"`
	}
	if err := json.Unmarshal(m.Data, &d); err != nil {
		t.Fatalf("event data %s: %v", m.Data, err)
	}
	return d.Post
}
