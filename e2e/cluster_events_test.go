package e2e

import (
	"net/http"
	"testing"
	"time"
)

// Three nodes on one database behave as one server: a post made on A
// reaches a socket on C, typing on B reaches A and C, a user with sockets
// on two nodes stays online until the last one closes, and a logout on A
// ends the session on C at once (its cached session is dropped and its
// socket there closed).
func TestClusterEventsCrossNodes(t *testing.T) {
	nodes, admin := startCluster(t, nodeOptions{}, "A", "B", "C")
	a, b, c := nodes[0], nodes[1], nodes[2]
	alice := signupAndLogin(t, a.base, "alice")
	bob := signupAndLogin(t, b.base, "bob")
	carol := signupAndLogin(t, c.base, "carol")
	room := newChat(t, a.base, admin, alice, bob, carol)

	aliceOnA := dialSocket(t, a.base, alice)
	carolOnC := dialSocket(t, c.base, carol)
	bobOnB := dialSocket(t, b.base, bob)

	t.Run("a post on A reaches a socket on C", func(t *testing.T) {
		var post struct {
			ID string `json:"id"`
		}
		alice.must(t, a.base, "POST", "/api/v4/posts", http.StatusCreated,
			map[string]string{"channel_id": room.channelID, "message": "hello from A"}, &post)
		ev := carolOnC.waitEvent(t, "posted", nil)
		if ev.Broadcast["channel_id"] != room.channelID {
			t.Errorf("posted on C for channel %v, want %s", ev.Broadcast["channel_id"], room.channelID)
		}
	})

	t.Run("typing on B reaches A and C", func(t *testing.T) {
		bobOnB.send(t, "user_typing", map[string]string{"channel_id": room.channelID})
		fromBob := func(ev wsEvent) bool { return ev.Data["user_id"] == bob.userID }
		aliceOnA.waitEvent(t, "typing", fromBob)
		carolOnC.waitEvent(t, "typing", fromBob)
	})

	t.Run("a user is offline only when no node holds a socket of theirs", func(t *testing.T) {
		carolOnA := dialSocket(t, a.base, carol)
		statusOf := func(base string) string {
			var st struct {
				Status string `json:"status"`
			}
			if admin.call(t, base, "GET", "/api/v4/users/"+carol.userID+"/status", nil, &st) != http.StatusOK {
				return ""
			}
			return st.Status
		}
		waitFor(t, 10*time.Second, "carol online", func() bool { return statusOf(b.base) == "online" })
		carolOnA.conn.Close()
		carolOnA.closed(t)
		// A's hub saw carol's last socket there close; C still holds one.
		// Wait for A to have counted her sockets (a status read by A's
		// own hook path), then check she is still online everywhere.
		waitFor(t, 10*time.Second, "A's socket count to drop", func() bool {
			for _, n := range admin.clusterStatus(t, a.base) {
				if n.ID == a.id && n.WebSocketCount != nil {
					return *n.WebSocketCount == 1 // alice's
				}
			}
			return false
		})
		for _, n := range []*clusterNode{a, b, c} {
			if got := statusOf(n.base); got != "online" {
				t.Errorf("carol's status on %s = %q after her socket on A closed, with one on C; want online", n.name, got)
			}
		}
		carolOnC.conn.Close()
		carolOnC.closed(t)
		waitFor(t, 10*time.Second, "carol offline on every node", func() bool {
			return statusOf(a.base) == "offline" && statusOf(b.base) == "offline" && statusOf(c.base) == "offline"
		})
	})

	t.Run("a logout on A fails the session on C at once", func(t *testing.T) {
		aliceOnC := dialSocket(t, c.base, alice) // C caches alice's session
		alice.must(t, c.base, "GET", "/api/v4/users/me", http.StatusOK, nil, nil)
		alice.must(t, a.base, "POST", "/api/v4/users/logout", http.StatusOK, nil, nil)
		// The logout answers once every node dropped the session: the
		// very next request on C fails.
		if got := alice.call(t, c.base, "GET", "/api/v4/users/me", nil, nil); got != http.StatusUnauthorized {
			t.Fatalf("alice's token on C right after her logout on A = %d, want 401", got)
		}
		aliceOnC.closed(t)
		for _, n := range []*clusterNode{a, b} {
			if got := alice.call(t, n.base, "GET", "/api/v4/users/me", nil, nil); got != http.StatusUnauthorized {
				t.Errorf("alice's token on %s = %d after logout, want 401", n.name, got)
			}
		}
	})

	t.Run("a node stopped by SIGTERM leaves cleanly", func(t *testing.T) {
		c.stop(t)
		// Its ClusterDiscovery row is gone, so it is not even listed as
		// down, and the others see two nodes at once (a leave, not a
		// failure to detect).
		waitFor(t, 5*time.Second, "A to list A and B only, nothing down", func() bool {
			var nodes []statusNode
			if admin.call(t, a.base, "GET", "/api/v4/cluster/status?include_down=true", nil, &nodes) != http.StatusOK {
				return false
			}
			return sameIDs(nodes, []string{a.id, b.id})
		})
	})
}
