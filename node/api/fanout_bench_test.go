package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed331fb32b/chorus/node/app"
	"github.com/seed331fb32b/chorus/node/store"
)

// The fan-out benchmark of issue 4 through the full stack: one
// POST /api/v4/posts (HTTP, API, app, SQLite store, hub) delivered as a
// posted event to N sockets of the channel's members on one node,
// measured from the start of the request until the last socket has read
// the event (p50, p99), with the node's allocations per delivered event.
// As in node/ws's hub-level benchmark, the N clients live in a child
// process (this test binary again, running TestPostFanoutClientProcess):
// raw sockets that read frames without allocating and report when every
// one has read one more posted event. The anchor, measured in the same
// run, is the same POST to a channel without sockets: the part of the
// time that is not fan-out.

// fanoutClientEnv carries the client process's spec.
const fanoutClientEnv = "CHORUS_API_FANOUT_CLIENT"

// fanoutSpec tells the client process what to connect to.
type fanoutSpec struct {
	Addr       string `json:"addr"`        // host:port of the node
	TokensFile string `json:"tokens_file"` // one session token per line, a socket each
}

// TestPostFanoutClientProcess is the client side of the fan-out benchmark;
// it runs only as the child process the benchmark starts. It prints
// "ready" once every socket has read its hello and its own status_change
// (the node has settled), then "done <unix nanos>" each time every socket
// has read one more posted event, and exits when its stdin closes.
func TestPostFanoutClientProcess(t *testing.T) {
	raw := os.Getenv(fanoutClientEnv)
	if raw == "" {
		t.Skip("runs only as the fan-out benchmark's client process")
	}
	var spec fanoutSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(spec.TokensFile)
	if err != nil {
		t.Fatal(err)
	}
	tokens := strings.Fields(string(data))
	out := bufio.NewWriter(os.Stdout)
	var outMu sync.Mutex
	say := func(line string) {
		outMu.Lock()
		_, _ = out.WriteString(line + "\n")
		_ = out.Flush()
		outMu.Unlock()
	}
	var settled, remaining atomic.Int64
	remaining.Store(int64(len(tokens)))
	for _, token := range tokens {
		c, br, err := rawDial(spec.Addr, "/api/v4/websocket", "Bearer "+token)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer c.Close()
		go func() {
			buf := make([]byte, 64<<10)
			hello, status := false, false
			for {
				payload, opcode, err := readFrame(br, buf)
				if err != nil {
					return
				}
				if opcode != 1 { // text frames only; events fit in one
					continue
				}
				switch {
				case bytes.HasPrefix(payload, []byte(`{"event":"posted"`)):
					if remaining.Add(-1) == 0 {
						at := time.Now().UnixNano()
						remaining.Store(int64(len(tokens))) // the next post comes after this line is read
						say("done " + strconv.FormatInt(at, 10))
					}
				case !hello && bytes.HasPrefix(payload, []byte(`{"event":"hello"`)):
					hello = true
				case !status && bytes.HasPrefix(payload, []byte(`{"event":"status_change"`)):
					status = true
				}
				if hello && status {
					hello, status = false, false // count once
					if settled.Add(1) == int64(len(tokens)) {
						say("ready")
					}
				}
			}
		}()
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// readFrame reads one unmasked server frame into buf (a payload larger
// than buf is discarded and reported empty) without allocating.
func readFrame(br *bufio.Reader, buf []byte) (payload []byte, opcode int, err error) {
	var hdr [2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, 0, err
	}
	n := uint64(hdr[1] & 0x7f)
	ext := 0
	switch n {
	case 126:
		ext = 2
	case 127:
		ext = 8
	}
	if ext > 0 {
		var lenBuf [8]byte
		if _, err := io.ReadFull(br, lenBuf[:ext]); err != nil {
			return nil, 0, err
		}
		n = 0
		for _, b := range lenBuf[:ext] {
			n = n<<8 | uint64(b)
		}
	}
	if n > uint64(len(buf)) {
		_, err := br.Discard(int(n))
		return nil, int(hdr[0] & 0x0f), err
	}
	if _, err := io.ReadFull(br, buf[:n]); err != nil {
		return nil, 0, err
	}
	return buf[:n], int(hdr[0] & 0x0f), nil
}

// rawDial opens a WebSocket to addr+path by hand.
func rawDial(addr, path, authorization string) (net.Conn, *bufio.Reader, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: " + authorization + "\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
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

// fanoutClients is the benchmark's handle on the client process.
type fanoutClients struct {
	done chan int64 // unix nanos of each "done" line
}

// startFanoutClients starts the client process and waits until it is
// ready; it is stopped at the end of the test.
func startFanoutClients(tb testing.TB, spec fanoutSpec) *fanoutClients {
	tb.Helper()
	raw, _ := json.Marshal(spec)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestPostFanoutClientProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), fanoutClientEnv+"="+string(raw))
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
		t := time.AfterFunc(30*time.Second, cancel)
		_ = cmd.Wait()
		t.Stop()
		cancel()
	})
	p := &fanoutClients{done: make(chan int64, 1)}
	ready := make(chan struct{})
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line := sc.Text(); line == "ready" {
				close(ready)
			} else if ns, ok := strings.CutPrefix(line, "done "); ok {
				n, _ := strconv.ParseInt(ns, 10, 64)
				p.done <- n
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(2 * time.Minute):
		tb.Fatal("client process not ready after 2 minutes")
	}
	return p
}

// wait returns when every socket has read the next posted event.
func (p *fanoutClients) wait(tb testing.TB) time.Time {
	select {
	case ns, ok := <-p.done:
		if !ok {
			tb.Fatal("client process ended")
		}
		return time.Unix(0, ns)
	case <-time.After(30 * time.Second):
		tb.Fatal("sockets still waiting for the posted event")
	}
	return time.Time{}
}

// fanoutRig is a node behind a real HTTP server whose channel has n
// members besides its poster, each with a socket in the client process,
// and a second channel with the poster alone.
type fanoutRig struct {
	bn      *benchNode
	lonely  string // the anchor's channel
	clients *fanoutClients
}

func newFanoutRig(tb testing.TB, n int) *fanoutRig {
	tb.Helper()
	bn := newBenchNode(tb, "sqlite")
	ctx := context.Background()
	st := bn.n.store
	var tokens bytes.Buffer
	now := time.Now().UnixMilli()
	for i := range n {
		id := app.NewID()
		u := &store.User{ID: id, CreateAt: now, UpdateAt: now, Username: fmt.Sprintf("reader%d", i),
			Email: fmt.Sprintf("reader%d@example.com", i), Roles: "system_user", Props: "{}", NotifyProps: "{}", Timezone: "{}", Locale: "en"}
		s := &store.Session{ID: app.NewID(), Token: app.NewID(), CreateAt: now, ExpiresAt: now + 3600_000, UserID: id,
			Roles: "system_user", Props: "{}"}
		m := &store.ChannelMember{ChannelID: bn.channel, UserID: id, NotifyProps: "{}", SchemeUser: true}
		for _, err := range []error{st.Users().Save(ctx, u), st.Sessions().Save(ctx, s), st.Channels().SaveMember(ctx, m)} {
			if err != nil {
				tb.Fatal(err)
			}
		}
		tokens.WriteString(s.Token + "\n")
	}
	res, body := bn.n.do(tb, http.MethodPost, "/api/v4/channels", bn.token, map[string]string{
		"team_id": decodeAs[app.Channel](tb, bn.n.getAs(tb, bn.token, "/api/v4/channels/"+bn.channel)).TeamID,
		"name":    "lonely", "display_name": "Lonely", "type": "O"})
	if res.StatusCode != http.StatusCreated {
		tb.Fatalf("anchor channel: %d %s", res.StatusCode, body)
	}
	file := filepath.Join(tb.TempDir(), "tokens")
	if err := os.WriteFile(file, tokens.Bytes(), 0o600); err != nil {
		tb.Fatal(err)
	}
	clients := startFanoutClients(tb, fanoutSpec{Addr: strings.TrimPrefix(bn.url, "http://"), TokensFile: file})
	return &fanoutRig{bn: bn, lonely: decodeAs[app.Channel](tb, body).ID, clients: clients}
}

// postBody is a posted event of about 1 KiB once wrapped, like node/ws's.
func postBody(channel string) []byte {
	return []byte(`{"channel_id":"` + channel + `","message":"` + strings.Repeat("hello world ", 20) + `"}`)
}

// deliver posts to the members' channel and returns the time until the
// last socket read the event.
func (r *fanoutRig) deliver(tb testing.TB, body []byte) time.Duration {
	start := time.Now()
	r.bn.request(tb, http.MethodPost, "/api/v4/posts", body, http.StatusCreated)
	return r.clients.wait(tb).Sub(start)
}

// percentile returns the p-th percentile (0 < p ≤ 100) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func BenchmarkPostFanout(b *testing.B) {
	const n = 1000
	rig := newFanoutRig(b, n)
	body, lonely := postBody(rig.bn.channel), postBody(rig.lonely)
	var anchor []time.Duration
	for range 200 {
		start := time.Now()
		rig.bn.request(b, http.MethodPost, "/api/v4/posts", lonely, http.StatusCreated)
		anchor = append(anchor, time.Since(start))
	}
	for range 20 { // warm up the writers and the buffer pools
		rig.deliver(b, body)
	}
	var lat []time.Duration
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for b.Loop() {
		lat = append(lat, rig.deliver(b, body))
	}
	runtime.ReadMemStats(&after)

	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	p50, p99 := percentile(lat, 50), percentile(lat, 99)
	a50, a99 := percentile(anchor, 50), percentile(anchor, 99)
	allocs := float64(after.Mallocs-before.Mallocs) / float64(len(lat)*n)
	b.ReportMetric(us(p50), "p50-µs")
	b.ReportMetric(us(p99), "p99-µs")
	b.ReportMetric(us(a50), "anchor-p50-µs")
	b.ReportMetric(us(a99), "anchor-p99-µs")
	b.ReportMetric(allocs, "allocs/delivery")
	b.Logf("%d sockets, %d posts: the last socket has the post after p50 %v, p99 %v; anchor (the same POST, no sockets): p50 %v, p99 %v; %.3f node allocations per delivered event",
		n, len(lat), p50, p99, a50, a99, allocs)
}

// TestPostFanoutRig keeps the benchmark's harness honest with a few
// sockets: every socket gets every post.
func TestPostFanoutRig(t *testing.T) {
	rig := newFanoutRig(t, 20)
	for range 3 {
		rig.deliver(t, postBody(rig.bn.channel))
	}
}
