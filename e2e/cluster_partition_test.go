package e2e

import (
	"net/http"
	"syscall"
	"testing"
	"time"
)

// downBound is how soon the others must mark a node down once its gossip
// went silent (issue 5: 3 s).
const downBound = 3 * time.Second

// A node cut off from the others is marked down within downBound and
// rejoins when restored. The cut is SIGSTOP: the process, its gossip and
// its API freeze at once, as a pulled cable would look from the other
// nodes (the in-process test in node/cluster cuts the gossip transport
// itself, and checks the cut-off node's own view). SIGCONT restores it:
// it refutes its death, is listed again by every node, and a post made on
// A reaches a socket opened on C afterwards.
func TestClusterNodeCutOffIsMarkedDownAndRejoins(t *testing.T) {
	nodes, admin := startCluster(t, nodeOptions{}, "A", "B", "C")
	a, b, c := nodes[0], nodes[1], nodes[2]

	if err := c.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			_ = c.cmd.Process.Signal(syscall.SIGCONT)
		}
	}
	t.Cleanup(resume) // a frozen process ignores the cleanup's SIGKILL until it runs
	cut := time.Now()
	pair := []string{a.id, b.id}
	for _, n := range []*clusterNode{a, b} {
		took := pollOverlapping(t, cut, downBound, "node "+n.name+" to drop the cut-off node", func() bool {
			return sameIDs(admin.clusterStatus(t, n.base), pair)
		})
		t.Logf("node %s dropped the cut-off node %s after the cut", n.name, took.Round(time.Millisecond))
	}

	resume()
	restored := time.Now()
	waitMembers(t, admin, a, b, c)
	t.Logf("the restored node is listed by all three %s after SIGCONT", time.Since(restored).Round(time.Millisecond))

	carol := signupAndLogin(t, c.base, "carol")
	room := newChat(t, a.base, admin, carol)
	carolOnC := dialSocket(t, c.base, carol)
	var post struct {
		ID string `json:"id"`
	}
	admin.must(t, a.base, "POST", "/api/v4/posts", http.StatusCreated,
		map[string]string{"channel_id": room.channelID, "message": "after the cut"}, &post)
	carolOnC.waitEvent(t, "posted", nil)
}

// pollOverlapping calls cond every 50 ms, each call on its own goroutine
// so that one slow call (a cluster request waiting on a silent node for
// its 2 s timeout) does not hide a change behind it, until one reports
// true; it returns the time from start to the first call that began after
// which cond held, and fails t when bound passes first.
func pollOverlapping(t *testing.T, start time.Time, bound time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	found := make(chan time.Duration, 1)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case took := <-found:
			if took > bound {
				t.Fatalf("%s: took %s, want within %s", what, took.Round(time.Millisecond), bound)
			}
			return took
		case <-tick.C:
			if time.Since(start) > bound {
				t.Fatalf("%s: not within %s", what, bound)
			}
			began := time.Since(start)
			go func() {
				if cond() {
					select {
					case found <- began:
					default:
					}
				}
			}()
		}
	}
}
