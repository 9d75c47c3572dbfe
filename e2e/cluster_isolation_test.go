package e2e

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// Two clusters with different ClusterNames on one database stay apart:
// each sees only its own nodes (the memberlist label differs, so a join
// at the other cluster's ClusterDiscovery rows is refused), and a post in
// one never reaches a socket in the other.
func TestClusterNamesKeepClustersApart(t *testing.T) {
	db := clusterDB(t)
	a1 := startClusterNode(t, "alpha-1", db, nodeOptions{cluster: "alpha"})
	a2 := startClusterNode(t, "alpha-2", db, nodeOptions{cluster: "alpha"})
	b1 := startClusterNode(t, "beta-1", db, nodeOptions{cluster: "beta"})
	b2 := startClusterNode(t, "beta-2", db, nodeOptions{cluster: "beta"})

	admin := signupAndLogin(t, a1.base, "root")
	waitMembers(t, admin, a1, a2)
	waitMembers(t, admin, b1, b2)

	// A post on alpha reaches alpha's other node, not beta's.
	alice := signupAndLogin(t, a1.base, "alice")
	room := newChat(t, a1.base, admin, alice)
	onAlpha := dialSocket(t, a2.base, alice)
	onBeta := dialSocket(t, b1.base, alice)
	alice.must(t, a1.base, "POST", "/api/v4/posts", http.StatusCreated,
		map[string]string{"channel_id": room.channelID, "message": "alpha only"}, nil)
	onAlpha.waitEvent(t, "posted", nil)
	// A second post made on beta: its socket sees that one, and the alpha
	// post must not have come first.
	alice.must(t, b2.base, "POST", "/api/v4/posts", http.StatusCreated,
		map[string]string{"channel_id": room.channelID, "message": "beta only"}, nil)
	ev := onBeta.waitEvent(t, "posted", nil)
	if post, _ := ev.Data["post"].(string); !strings.Contains(post, "beta only") {
		t.Errorf("beta's socket got %q first; want only beta's post", post)
	}
	// Each cluster still sees only its own nodes.
	for _, n := range []*clusterNode{a1, a2, b1, b2} {
		if got := len(admin.clusterStatus(t, n.base)); got != 2 {
			t.Errorf("%s sees %d nodes, want 2", n.name, got)
		}
	}
}

// A node whose gossip does not match its cluster's is refused: with
// EnableGossipEncryption on, the cluster's nodes share the key in the
// Systems row ClusterEncryptionKey and refuse a node that gossips in
// plain text (it cannot read theirs either), and the refused node logs
// why.
func TestClusterRefusesAMismatchedGossipKey(t *testing.T) {
	db := clusterDB(t)
	a := startClusterNode(t, "A", db, nodeOptions{encryption: true})
	b := startClusterNode(t, "B", db, nodeOptions{encryption: true})
	admin := signupAndLogin(t, a.base, "root")
	waitMembers(t, admin, a, b)

	plain := startClusterNode(t, "plain", db, nodeOptions{encryption: false})
	waitFor(t, 15*time.Second, "the plain-text node to log that it was refused", func() bool {
		raw, _ := os.ReadFile(plain.log)
		return strings.Contains(string(raw), "refused")
	})
	for _, n := range []*clusterNode{a, b} {
		if got := admin.clusterStatus(t, n.base); !sameIDs(got, []string{a.id, b.id}) {
			t.Errorf("%s sees %d nodes with a plain-text node around, want its 2 encrypted ones", n.name, len(got))
		}
	}
	if got := admin.clusterStatus(t, plain.base); !sameIDs(got, []string{plain.id}) {
		t.Errorf("the plain-text node sees %d nodes, want itself only", len(got))
	}
}
