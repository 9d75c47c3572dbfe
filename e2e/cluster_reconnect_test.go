package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// seqEvent is an event as a resuming client reads it: with its seq.
type seqEvent struct {
	Event string         `json:"event"`
	Seq   int64          `json:"seq"`
	Data  map[string]any `json:"data"`
}

// resumableSocket is a raw WebSocket client that remembers how its socket
// ended, as a client that resumes needs.
type resumableSocket struct {
	events chan seqEvent
	err    error // why the socket ended; set before events closes
}

// dialResumable opens a WebSocket of c on base, resuming connection connID
// from seq when connID is not "".
func dialResumable(t *testing.T, base string, c *apiClient, connID string, seq int64) *resumableSocket {
	t.Helper()
	u := "ws" + strings.TrimPrefix(base, "http") + "/api/v4/websocket"
	if connID != "" {
		u += "?" + url.Values{"connection_id": {connID}, "sequence_number": {fmt.Sprint(seq)}}.Encode()
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+c.token)
	conn, _, err := websocket.DefaultDialer.DialContext(t.Context(), u, h)
	if err != nil {
		t.Fatalf("dialing %s: %v", u, err)
	}
	t.Cleanup(func() { conn.Close() })
	s := &resumableSocket{events: make(chan seqEvent, 256)}
	go func() {
		defer close(s.events)
		for {
			_, raw, err := conn.ReadMessage()
			if err != nil {
				s.err = err
				return
			}
			var ev seqEvent
			if json.Unmarshal(raw, &ev) == nil && ev.Event != "" {
				s.events <- ev
			}
		}
	}()
	return s
}

// next returns the next event, failing after 10 s or when the socket ends.
func (s *resumableSocket) next(t *testing.T) seqEvent {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatalf("socket ended (%v) while waiting for an event", s.err)
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return seqEvent{}
}

// waitPosted reads events until a posted one whose message is msg, and
// returns every event read, in order.
func (s *resumableSocket) waitPosted(t *testing.T, msg string) []seqEvent {
	t.Helper()
	var got []seqEvent
	for {
		ev := s.next(t)
		got = append(got, ev)
		if ev.Event == "posted" && postMessage(t, ev) == msg {
			return got
		}
	}
}

// postMessage returns the message of a posted event's post.
func postMessage(t *testing.T, ev seqEvent) string {
	t.Helper()
	raw, _ := ev.Data["post"].(string)
	var p struct {
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		t.Fatalf("posted event with post %q: %v", raw, err)
	}
	return p.Message
}

// A client whose node stops gracefully reconnects to another node with its
// connection_id and sequence_number and gets exactly what it missed, in
// order, on the same connection: the stopping node keeps the connection
// while it drains, queueing the events published meanwhile, and hands it
// over when the new node asks the cluster for it.
func TestClusterReconnectAfterGracefulStop(t *testing.T) {
	nodes, admin := startCluster(t, nodeOptions{}, "A", "B", "C")
	a, b, c := nodes[0], nodes[1], nodes[2]
	alice := signupAndLogin(t, a.base, "alice")
	bob := signupAndLogin(t, b.base, "bob")
	room := newChat(t, a.base, admin, alice, bob)
	post := func(base, msg string) {
		bob.must(t, base, "POST", "/api/v4/posts", http.StatusCreated,
			map[string]string{"channel_id": room.channelID, "message": msg}, nil)
	}

	onA := dialResumable(t, a.base, alice, "", 0)
	hello := onA.next(t)
	connID, _ := hello.Data["connection_id"].(string)
	if hello.Event != "hello" || connID == "" {
		t.Fatalf("first event %+v, want hello with a connection_id", hello)
	}
	post(b.base, "before")
	last := onA.waitPosted(t, "before")
	lastSeq := last[len(last)-1].Seq

	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// A closes the socket with 1001 and keeps the connection while it
	// drains. Whatever the client read before the close counts as seen.
	for ev := range onA.events {
		lastSeq = ev.Seq
	}
	if !websocket.IsCloseError(onA.err, websocket.CloseGoingAway) {
		t.Fatalf("socket on A ended with %v, want close frame %d (going away)", onA.err, websocket.CloseGoingAway)
	}
	select {
	case <-a.done:
		t.Fatal("node A exited before the connection it drains was taken")
	default:
	}

	// Missed while reconnecting: published on B, queued on A.
	post(b.base, "missed 1")
	post(b.base, "missed 2")

	onB := dialResumable(t, b.base, alice, connID, lastSeq+1)
	missed := onB.waitPosted(t, "missed 2")
	var posts []string
	for i, ev := range missed {
		if ev.Event == "hello" {
			t.Fatalf("got a new hello on B (%+v): the connection was not resumed", ev)
		}
		if ev.Seq != lastSeq+1+int64(i) {
			t.Fatalf("event %d on B: %s with seq %d, want seq %d", i, ev.Event, ev.Seq, lastSeq+1+int64(i))
		}
		if ev.Event == "posted" {
			posts = append(posts, postMessage(t, ev))
		}
	}
	if strings.Join(posts, "|") != "missed 1|missed 2" {
		t.Fatalf("replayed posts %q, want exactly the two missed ones in order", posts)
	}

	// The connection goes on live on B, and A, its connection taken,
	// finishes stopping cleanly.
	next := missed[len(missed)-1].Seq + 1
	post(c.base, "after")
	for _, ev := range onB.waitPosted(t, "after") {
		if ev.Seq != next {
			t.Fatalf("live event %s with seq %d, want %d", ev.Event, ev.Seq, next)
		}
		next++
	}
	select {
	case <-a.done:
	case <-time.After(30 * time.Second):
		t.Fatal("node A still running 30s after SIGTERM")
	}
	if !a.cmd.ProcessState.Success() {
		t.Fatalf("node A exited with %v after SIGTERM", a.cmd.ProcessState)
	}
	logA, _ := os.ReadFile(a.log)
	if !strings.Contains(string(logA), "Handed a WebSocket connection's queue to another node") {
		t.Errorf("node A's log does not show the hand-over:\n%s", tail(logA, 4000))
	}
}
