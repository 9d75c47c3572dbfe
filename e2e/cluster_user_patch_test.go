package e2e

import (
	"net/http"
	"testing"
)

// A user patched on one node is what every node serves as soon as the
// patch has answered: the patch drops the user from the other nodes'
// caches (inv_user) and, like a logout's clear_session_user, answers only
// once every live node has handled it, so no read needs to wait. Sockets on
// the other nodes hear user_updated: everyone the profile, the user their
// own view.
func TestClusterUserPatchCrossNodes(t *testing.T) {
	db := clusterDB(t)
	a := startClusterNode(t, "A", db, nodeOptions{})
	b := startClusterNode(t, "B", db, nodeOptions{})
	c := startClusterNode(t, "C", db, nodeOptions{})

	admin := signupAndLogin(t, a.base, "root")
	waitMembers(t, admin, a, b, c)
	alice := signupAndLogin(t, a.base, "alice")
	bob := signupAndLogin(t, c.base, "bob")
	bobOnC := dialSocket(t, c.base, bob)
	aliceOnB := dialSocket(t, b.base, alice)

	type user struct {
		ID       string `json:"id"`
		Nickname string `json:"nickname"`
		Position string `json:"position"`
		UpdateAt int64  `json:"update_at"`
	}
	getOn := func(n *clusterNode) user {
		t.Helper()
		var u user
		bob.must(t, n.base, "GET", "/api/v4/users/"+alice.userID, http.StatusOK, nil, &u)
		return u
	}
	userOf := func(ev wsEvent) map[string]any {
		u, _ := ev.Data["user"].(map[string]any)
		return u
	}

	t.Run("a patch on A is served by C at once and heard on C", func(t *testing.T) {
		before := getOn(c) // C caches alice
		for _, n := range []*clusterNode{a, b} {
			getOn(n)
		}
		var patched user
		alice.must(t, a.base, "PUT", "/api/v4/users/me/patch", http.StatusOK,
			map[string]any{"id": alice.userID, "nickname": "Ally", "position": "pilot"}, &patched)
		if patched.Nickname != "Ally" || patched.Position != "pilot" || patched.UpdateAt <= before.UpdateAt {
			t.Fatalf("patch answered %+v (before: %+v)", patched, before)
		}
		// No wait: the patch answered after every node dropped alice.
		for _, n := range []*clusterNode{c, b, a} {
			if got := getOn(n); got != patched {
				t.Errorf("alice on %s right after the patch on A = %+v, want %+v", n.name, got, patched)
			}
		}
		ev := bobOnC.waitEvent(t, "user_updated", func(ev wsEvent) bool { return userOf(ev)["id"] == alice.userID })
		if u := userOf(ev); u["nickname"] != "Ally" || u["position"] != "pilot" || u["notify_props"] != nil {
			t.Errorf("user_updated on bob's socket on C = %v, want alice's profile without notify_props", u)
		}
		ev = aliceOnB.waitEvent(t, "user_updated", func(ev wsEvent) bool { return userOf(ev)["id"] == alice.userID })
		if u := userOf(ev); u["nickname"] != "Ally" || u["notify_props"] == nil || ev.Broadcast["user_id"] != alice.userID {
			t.Errorf("user_updated on alice's socket on B = %v %v, want her own view", u, ev.Broadcast)
		}
	})

	t.Run("an admin's patch on C is served by A at once", func(t *testing.T) {
		getOn(a) // A caches alice (it also did when it wrote her)
		var patched user
		admin.must(t, c.base, "PUT", "/api/v4/users/"+alice.userID+"/patch", http.StatusOK,
			map[string]any{"nickname": "Alice of C"}, &patched)
		if got := getOn(a); got != patched || got.Nickname != "Alice of C" {
			t.Errorf("alice on A right after the patch on C = %+v, want %+v", got, patched)
		}
	})

	t.Run("a taken username is refused on any node", func(t *testing.T) {
		if got := alice.call(t, b.base, "PUT", "/api/v4/users/me/patch", map[string]any{"username": "bob"}, nil); got != http.StatusBadRequest {
			t.Errorf("patch to bob's username on B = %d, want 400", got)
		}
	})
}
