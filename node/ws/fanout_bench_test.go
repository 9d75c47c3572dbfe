package ws

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The fan-out benchmark of issue 4: one post to N sockets of the channel
// on one node, measured from Publish until the last socket has read it
// (p50, p99), and allocations per delivered event.
//
// The N clients live in a child process (this test binary again, running
// TestFanoutClientProcess), as real clients live elsewhere: in the same
// process their reads would queue behind the server's writers in one Go
// scheduler. They are raw sockets that parse frame headers without
// allocating and report, on their stdout, the wall-clock time at which the
// last of them read each event. The server process then counts only its
// own allocations.
//
// The anchor, measured in the same run against the same client process
// kind, is the naive broadcaster: one goroutine writing the
// already-marshalled frame to each of N gorilla connections in turn.

// fanoutClientEnv carries a client process's fanoutSpec.
const fanoutClientEnv = "CHORUS_WS_FANOUT_CLIENT"

// fanoutSpec tells the client process what to connect to.
type fanoutSpec struct {
	Addr  string `json:"addr"`  // host:port
	Path  string `json:"path"`  // request path
	Users int    `json:"users"` // sockets, as users u0…u(n-1) with bearer tokens
	Hello bool   `json:"hello"` // the server sends a first frame to skip
}

// benchPost is a posted event the size of a short real one (about 1 KiB).
func benchPost() Event {
	post, _ := json.Marshal(map[string]any{
		"id": newID(), "create_at": 1700000000000, "update_at": 1700000000000, "edit_at": 0, "delete_at": 0,
		"is_pinned": false, "user_id": newID(), "channel_id": newID(), "root_id": "", "original_id": "",
		"message": strings.Repeat("hello world ", 20), "type": "", "props": map[string]any{}, "hashtags": "",
		"pending_post_id": newID() + ":1700000000000", "reply_count": 0, "metadata": map[string]any{},
	})
	return Event{
		Event: EventPosted,
		Data: map[string]any{
			"post": string(post), "channel_type": "O", "channel_display_name": "Town Square",
			"channel_name": "town-square", "sender_name": "@alice", "team_id": newID(), "set_online": true,
		},
		Broadcast: Broadcast{ChannelID: "bench"},
	}
}

// TestFanoutClientProcess is the client side of the fan-out benchmark; it
// runs only as the child process the benchmark starts. It prints "ready"
// once every socket is open, then "done <unix nanos>" each time every
// socket has read one more event, and exits when its stdin closes.
func TestFanoutClientProcess(t *testing.T) {
	raw := os.Getenv(fanoutClientEnv)
	if raw == "" {
		t.Skip("runs only as the fan-out benchmark's client process")
	}
	var spec fanoutSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewWriter(os.Stdout)
	var outMu sync.Mutex
	var remaining atomic.Int64
	remaining.Store(int64(spec.Users))
	for i := range spec.Users {
		c, br, err := rawDial(spec.Addr, spec.Path, fmt.Sprintf("Bearer tok-u%d", i))
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer c.Close()
		if spec.Hello {
			if _, _, err := skipFrame(br); err != nil {
				t.Fatalf("hello: %v", err)
			}
		}
		go func() {
			for {
				fin, op, err := skipFrame(br)
				if err != nil {
					return
				}
				if !fin || (op != websocket.TextMessage && op != 0) || remaining.Add(-1) != 0 {
					continue
				}
				at := time.Now().UnixNano()
				remaining.Store(int64(spec.Users)) // the next event comes only after this line is read
				outMu.Lock()
				_, _ = fmt.Fprintf(out, "done %d\n", at)
				_ = out.Flush()
				outMu.Unlock()
			}
		}()
	}
	outMu.Lock()
	_, _ = fmt.Fprintln(out, "ready")
	_ = out.Flush()
	outMu.Unlock()
	_, _ = io.Copy(io.Discard, os.Stdin) // until the benchmark is done
}

// clientProcess is the benchmark's handle on a client process.
type clientProcess struct {
	done chan int64 // unix nanos of each "done" line
}

// startClients starts a client process for spec and waits until its
// sockets are open. It is stopped at the end of the test.
func startClients(tb testing.TB, spec fanoutSpec) *clientProcess {
	tb.Helper()
	b, _ := json.Marshal(spec)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestFanoutClientProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), fanoutClientEnv+"="+string(b))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = stdin.Close() // the child exits on EOF
		t := time.AfterFunc(longStop, cancel)
		_ = cmd.Wait()
		t.Stop()
		cancel()
	})
	p := &clientProcess{done: make(chan int64, 1)}
	ready := make(chan struct{})
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if line == "ready" {
				close(ready)
			} else if ns, ok := strings.CutPrefix(line, "done "); ok {
				n, _ := strconv.ParseInt(ns, 10, 64)
				p.done <- n
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(6 * longStop):
		tb.Fatalf("client process not ready after %v", 6*longStop)
	}
	return p
}

// wait returns when every socket has read the next event.
func (p *clientProcess) wait(tb testing.TB) time.Time {
	select {
	case ns, ok := <-p.done:
		if !ok {
			tb.Fatal("client process ended")
		}
		return time.Unix(0, ns)
	case <-time.After(longStop):
		tb.Fatal("sockets still waiting for the event")
	}
	return time.Time{}
}

// skipFrame reads one unmasked server frame and discards its payload,
// without allocating.
func skipFrame(br *bufio.Reader) (fin bool, opcode int, err error) {
	b0, err := br.ReadByte()
	if err != nil {
		return false, 0, err
	}
	b1, err := br.ReadByte()
	if err != nil {
		return false, 0, err
	}
	n := uint64(b1 & 0x7f)
	ext := 0 // bytes of extended length
	switch n {
	case 126:
		ext = 2
	case 127:
		ext = 8
	}
	if ext > 0 {
		n = 0
		for range ext {
			b, err := br.ReadByte()
			if err != nil {
				return false, 0, err
			}
			n = n<<8 | uint64(b)
		}
	}
	if _, err := br.Discard(int(n)); err != nil {
		return false, 0, err
	}
	return b0&0x80 != 0, int(b0 & 0x0f), nil
}

// rawDial opens a WebSocket to addr+path by hand, so the client side
// allocates nothing per frame.
func rawDial(addr, path, authorization string) (net.Conn, *bufio.Reader, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	if authorization != "" {
		req += "Authorization: " + authorization + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		_ = c.Close()
		return nil, nil, err
	}
	br := bufio.NewReaderSize(c, 16<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		_ = c.Close()
		return nil, nil, err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		_ = c.Close()
		return nil, nil, fmt.Errorf("handshake status %d", resp.StatusCode)
	}
	return c, br, nil
}

// hubRig is a Hub with n client sockets, all members of channel "bench".
type hubRig struct {
	env     *testEnv
	clients *clientProcess
}

func newHubRig(tb testing.TB, n int) *hubRig {
	tb.Helper()
	env := newTestEnv(tb, func(_ *Config, d *Deps) { d.Logger = nil })
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("u%d", i)
	}
	env.members.setChannel("bench", users...)
	clients := startClients(tb, fanoutSpec{
		Addr: strings.TrimPrefix(env.srv.URL, "http://"), Path: "/api/v4/websocket", Users: n, Hello: true,
	})
	return &hubRig{env: env, clients: clients}
}

// deliver publishes ev and returns the time until the last socket read it.
func (r *hubRig) deliver(tb testing.TB, ev Event) time.Duration {
	start := time.Now()
	if err := r.env.hub.Publish(context.Background(), ev); err != nil {
		tb.Fatal(err)
	}
	return r.clients.wait(tb).Sub(start)
}

// anchorRig is a plain gorilla server with n client sockets, whose
// connections the naive broadcaster writes to directly.
type anchorRig struct {
	conns   []*websocket.Conn
	clients *clientProcess
}

func newAnchorRig(tb testing.TB, n int) *anchorRig {
	tb.Helper()
	r := &anchorRig{}
	var mu sync.Mutex
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		c, err := up.Upgrade(w, req, nil)
		if err != nil {
			return
		}
		mu.Lock()
		r.conns = append(r.conns, c)
		mu.Unlock()
	}))
	tb.Cleanup(srv.Close)
	tb.Cleanup(r.close) // before the client process is stopped
	r.clients = startClients(tb, fanoutSpec{Addr: strings.TrimPrefix(srv.URL, "http://"), Path: "/", Users: n})
	waitFor(tb, "every anchor socket accepted", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(r.conns) == n
	})
	return r
}

// deliver writes wire to every connection in turn.
func (r *anchorRig) deliver(tb testing.TB, wire []byte) time.Duration {
	start := time.Now()
	for _, c := range r.conns {
		if err := c.WriteMessage(websocket.TextMessage, wire); err != nil {
			tb.Fatal(err)
		}
	}
	return r.clients.wait(tb).Sub(start)
}

// close closes the server's side of every socket.
func (r *anchorRig) close() {
	for _, c := range r.conns {
		_ = c.Close()
	}
}

// percentile returns the p-th percentile (0 < p ≤ 100) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// anchorRounds is how many deliveries the anchor is measured over.
const anchorRounds = 300

func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1000} {
		b.Run(fmt.Sprintf("sockets=%d", n), func(b *testing.B) { benchmarkFanout(b, n) })
	}
}

func benchmarkFanout(b *testing.B, n int) {
	ev := benchPost()
	f, err := newEventFrame(ev)
	if err != nil {
		b.Fatal(err)
	}
	wire := f.appendWire(nil, 1)

	anchor := newAnchorRig(b, n)
	var anchorLat []time.Duration
	for range anchorRounds {
		anchorLat = append(anchorLat, anchor.deliver(b, wire))
	}
	anchor.close() // its client process ends with the benchmark

	rig := newHubRig(b, n)
	for range 20 { // warm up the writers and the buffer pool
		rig.deliver(b, ev)
	}
	var lat []time.Duration
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for b.Loop() {
		lat = append(lat, rig.deliver(b, ev))
	}
	runtime.ReadMemStats(&after)

	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	p50, p99 := percentile(lat, 50), percentile(lat, 99)
	a50, a99 := percentile(anchorLat, 50), percentile(anchorLat, 99)
	allocs := float64(after.Mallocs-before.Mallocs) / float64(len(lat)*n)
	b.ReportMetric(us(p50), "p50-µs")
	b.ReportMetric(us(p99), "p99-µs")
	b.ReportMetric(us(a50), "anchor-p50-µs")
	b.ReportMetric(us(a99), "anchor-p99-µs")
	b.ReportMetric(float64(p99)/float64(a99), "p99/anchor")
	b.ReportMetric(allocs, "allocs/delivery")
	b.Logf("%d sockets, %d posts: the last socket has it after p50 %v, p99 %v; anchor (one goroutine writing to each socket in turn): p50 %v, p99 %v; ratio p50 %.2f, p99 %.2f; %.4f server allocations per delivered event",
		n, len(lat), p50, p99, a50, a99, float64(p50)/float64(a50), float64(p99)/float64(a99), allocs)
}

// TestFanoutRig keeps the benchmark's harness honest with a few sockets:
// every socket gets every post, through the Hub and through the anchor.
func TestFanoutRig(t *testing.T) {
	const n = 20
	rig := newHubRig(t, n)
	for range 5 {
		rig.deliver(t, benchPost())
	}
	anchor := newAnchorRig(t, n)
	anchor.deliver(t, []byte(`{"event":"x"}`))
}
