package cluster

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/seed331fb32b/chorus/node/ws"
)

// BenchmarkCrossNodeLatency measures how long a posted event takes from
// Publish on node A to a socket on node C (reliable path: A's hub, A's
// sender, TCP, C's inbox, C's hub, the socket), posts made at a bounded
// rate (500 a second, b.N posts), and, as the anchor in the same run, from
// Publish on C to the same sockets. It reports the p50 and p99 of both and
// the ratio of the p99s. The channel has the given number of sockets on C
// and, in the "everywhere" cases (the 3 nodes × 300 sockets), as
// many on A and on B, which are read but not measured.
//
//	go test -run '^$' -bench CrossNodeLatency -benchtime 1000x ./node/cluster/
func BenchmarkCrossNodeLatency(b *testing.B) {
	for _, bc := range []struct {
		sockets    int  // on C, measured
		everywhere bool // as many on A and B
	}{{1, false}, {100, false}, {300, false}, {100, true}, {300, true}} {
		name := fmt.Sprintf("sockets=%d", bc.sockets)
		if bc.everywhere {
			name = fmt.Sprintf("sockets=3x%d", bc.sockets)
		}
		b.Run(name, func(b *testing.B) {
			sockets := bc.sockets
			tc := newTestCluster(b, 3, withHubs())
			a, c := tc.nodes[0], tc.nodes[2]
			users := make([]string, sockets)
			for i := range users {
				users[i] = "u" + strconv.Itoa(i)
			}
			var others []string
			if bc.everywhere {
				for i := range 2 * sockets {
					others = append(others, "o"+strconv.Itoa(i))
				}
			}
			tc.members.setChannel("bench", append(slices.Clone(users), others...)...)
			rec := &latencies{}
			for _, u := range users {
				go rec.collect(dialBench(b, c.wsURL, u))
			}
			for i, u := range others {
				go (&latencies{}).collect(dialBench(b, tc.nodes[i%2].wsURL, u)) // read, not measured
			}
			const rate = 500 // posts per second
			run := func(from *testNode, n int) (p50, p99 time.Duration, missing int) {
				rec.reset(n * sockets)
				tick := time.NewTicker(time.Second / rate)
				defer tick.Stop()
				for range n {
					<-tick.C
					err := from.hub.Publish(context.Background(), ws.Event{
						Event:     "posted",
						Data:      map[string]string{"t": strconv.FormatInt(time.Now().UnixNano(), 10)},
						Broadcast: ws.Broadcast{ChannelID: "bench"},
					})
					if err != nil {
						b.Fatal(err)
					}
				}
				return rec.wait(b)
			}
			b.ResetTimer()
			p50, p99, missing := run(a, b.N)
			b.StopTimer()
			l50, l99, _ := run(c, min(b.N, 500))
			b.ReportMetric(float64(p50.Microseconds()), "p50-µs")
			b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
			b.ReportMetric(float64(l50.Microseconds()), "local-p50-µs")
			b.ReportMetric(float64(l99.Microseconds()), "local-p99-µs")
			b.ReportMetric(float64(p99)/float64(max(l99, 1)), "p99-x-local")
			b.ReportMetric(float64(a.c.Dropped()), "dropped")
			// Deliveries that never came: sockets on C the hub closed
			// because their send queue overflowed (Mattermost's policy).
			b.ReportMetric(float64(missing)/float64(b.N*sockets), "undelivered-fraction")
		})
	}
}

// latencies collects, from every socket, the time from a post's
// publication (its data's "t") to its arrival.
type latencies struct {
	mu   sync.Mutex
	got  []time.Duration
	want int
	done chan struct{}
}

func (l *latencies) reset(want int) {
	l.mu.Lock()
	l.got, l.want, l.done = make([]time.Duration, 0, want), want, make(chan struct{})
	l.mu.Unlock()
}

// dialBench opens user's socket on url and reads its hello. The socket's
// reader must stay light: the clients share the CPU with the nodes they
// measure, so they find the post's "t" without decoding the JSON.
func dialBench(b *testing.B, url, user string) *websocket.Conn {
	conn := dialConn(b, url, user, "", 0)
	_, hello, err := conn.ReadMessage()
	if err != nil || !bytes.Contains(hello, []byte(`"event":"hello"`)) {
		b.Fatalf("first message %q, %v; want hello", hello, err)
	}
	return conn
}

// collect reads conn's messages until it closes, recording posted events
// (unless l was never reset: then it only reads).
func (l *latencies) collect(conn *websocket.Conn) {
	key, posted := []byte(`"t":"`), []byte(`"event":"posted"`)
	var buf bytes.Buffer
	for {
		_, r, err := conn.NextReader()
		if err != nil {
			return
		}
		buf.Reset()
		if _, err := buf.ReadFrom(r); err != nil {
			return
		}
		now := time.Now().UnixNano()
		m := buf.Bytes()
		i := bytes.Index(m, key)
		if i < 0 || !bytes.Contains(m, posted) {
			continue
		}
		rest := m[i+len(key):]
		sent, err := strconv.ParseInt(string(rest[:bytes.IndexByte(rest, '"')]), 10, 64)
		if err != nil {
			continue
		}
		l.mu.Lock()
		if l.done != nil {
			l.got = append(l.got, time.Duration(now-sent))
			if len(l.got) == l.want {
				close(l.done)
			}
		}
		l.mu.Unlock()
	}
}

// wait waits for every expected arrival, or until deliveries stop for a
// second (an overloaded node closed sockets whose send queue was full),
// and returns p50 and p99 of what arrived and how many did not.
func (l *latencies) wait(b *testing.B) (p50, p99 time.Duration, missing int) {
	deadline := time.After(longStop)
	last, lastAt := -1, time.Now()
	for {
		select {
		case <-l.done:
		case <-deadline:
			b.Fatalf("deliveries still arriving after %s", longStop)
		case <-time.After(100 * time.Millisecond):
			l.mu.Lock()
			n := len(l.got)
			l.mu.Unlock()
			if n != last {
				last, lastAt = n, time.Now()
			}
			if time.Since(lastAt) < time.Second {
				continue
			}
		}
		break
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.got) == 0 {
		b.Fatalf("none of %d deliveries arrived", l.want)
	}
	slices.Sort(l.got)
	return l.got[len(l.got)/2], l.got[len(l.got)*99/100], l.want - len(l.got)
}

// BenchmarkFailureDetection measures, per iteration on a fresh 3-node
// cluster, how long after its leader stops without a word (a crash: its
// gossip shut, no leave) the two others have both dropped it and agree on
// a new leader; and, as the anchor, the same after a clean stop (a leave
// message). Reported in milliseconds, with their ratio, for the gossip
// contract's SuspicionMult (2) and for 1.
//
//	go test -run '^$' -bench FailureDetection -benchtime 5x ./node/cluster/
func BenchmarkFailureDetection(b *testing.B) {
	for _, mult := range []int{2, 1} {
		b.Run(fmt.Sprintf("suspicion_mult=%d", mult), func(b *testing.B) {
			var crash, leave time.Duration
			for range b.N {
				crash += detectOnce(b, mult, true)
				leave += detectOnce(b, mult, false)
			}
			b.ReportMetric(float64(crash.Milliseconds())/float64(b.N), "crash-detect-ms")
			b.ReportMetric(float64(leave.Milliseconds())/float64(b.N), "leave-detect-ms")
			b.ReportMetric(float64(crash)/float64(max(leave, 1)), "crash-x-leave")
		})
	}
}

// detectOnce starts 3 nodes, stops the leader and returns how long until
// the others agree on the next one.
func detectOnce(b *testing.B, suspicionMult int, crash bool) time.Duration {
	b.StopTimer()
	tc := newTestCluster(b, 3, withConfig(func(_ int, cfg *Config) { cfg.SuspicionMult = suspicionMult }))
	defer func() {
		for _, n := range tc.nodes {
			n.c.halt()
		}
	}()
	sorted := slices.SortedFunc(slices.Values(tc.nodes), func(x, y *testNode) int { return compareStrings(x.c.NodeID(), y.c.NodeID()) })
	tc.waitFor("agreement on the first leader", func() bool {
		return sorted[1].c.Leader() == sorted[0].c.NodeID() && sorted[2].c.Leader() == sorted[0].c.NodeID()
	})
	b.StartTimer()
	start := time.Now()
	if crash {
		sorted[0].c.halt()
	} else {
		_ = sorted[0].c.Stop(context.Background())
	}
	tc.waitFor("a new leader", func() bool {
		return sorted[1].c.IsLeader() && sorted[2].c.Leader() == sorted[1].c.NodeID()
	})
	took := time.Since(start)
	b.StopTimer()
	return took
}
