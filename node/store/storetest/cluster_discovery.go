package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/seed331fb32b/chorus/node/store"
)

// newDiscoveryRow returns a ClusterDiscovery row of an app node of
// cluster at host:port, last seen at lastPing.
func newDiscoveryRow(cluster, host string, port int, lastPing int64) *store.ClusterDiscovery {
	return &store.ClusterDiscovery{
		ID:          NewID(),
		Type:        "mattermost_app",
		ClusterName: cluster,
		Hostname:    host,
		GossipPort:  port,
		CreateAt:    lastPing,
		LastPingAt:  lastPing,
	}
}

// ClusterDiscovery states the behaviour of the ClusterDiscovery accessor
// and of Systems' InsertIfAbsent, which the cluster's key relies on.
func ClusterDiscovery(t *testing.T, s *store.Store) {
	cd := s.ClusterDiscovery()
	ctx := t.Context()
	const now = int64(1700000000000)
	const alive = now - 30*60*1000 // Mattermost's CDSOfflineAfterMillis

	t.Run("saved rows are listed for their type and cluster only, oldest first", func(t *testing.T) {
		a := newDiscoveryRow("list", "10.0.0.1", 8074, now)
		b := newDiscoveryRow("list", "10.0.0.2", 8074, now+1)
		b.CreateAt = now + 1
		other := newDiscoveryRow("list-other", "10.0.0.3", 8074, now)
		proxy := newDiscoveryRow("list", "10.0.0.4", 8074, now)
		proxy.Type = "proxy"
		for _, d := range []*store.ClusterDiscovery{b, a, other, proxy} {
			if err := cd.Save(ctx, d); err != nil {
				t.Fatalf("Save: %v", err)
			}
		}
		got, err := cd.GetAll(ctx, "mattermost_app", "list", alive)
		if err != nil {
			t.Fatal(err)
		}
		if want := []*store.ClusterDiscovery{a, b}; !reflect.DeepEqual(got, want) {
			t.Fatalf("GetAll = %s, want %s", rowsString(got), rowsString(want))
		}
	})
	t.Run("rows not pinged since aliveSince are ignored", func(t *testing.T) {
		fresh := newDiscoveryRow("stale", "10.0.1.1", 8074, alive+1)
		stale := newDiscoveryRow("stale", "10.0.1.2", 8074, alive)
		for _, d := range []*store.ClusterDiscovery{fresh, stale} {
			if err := cd.Save(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		got, err := cd.GetAll(ctx, "mattermost_app", "stale", alive)
		if err != nil || len(got) != 1 || got[0].ID != fresh.ID {
			t.Fatalf("GetAll = %s, %v; want only the fresh row", rowsString(got), err)
		}
	})
	t.Run("delete removes the rows of one node, not its neighbour on another port", func(t *testing.T) {
		a := newDiscoveryRow("delete", "127.0.0.1", 8074, now)
		b := newDiscoveryRow("delete", "127.0.0.1", 8075, now)
		restarted := newDiscoveryRow("delete", "127.0.0.1", 8074, now) // same node, new id
		for _, d := range []*store.ClusterDiscovery{a, b, restarted} {
			if err := cd.Save(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		if ok, err := cd.Exists(ctx, a); err != nil || !ok {
			t.Fatalf("Exists before delete = %v, %v", ok, err)
		}
		if ok, err := cd.Delete(ctx, a); err != nil || !ok {
			t.Fatalf("Delete = %v, %v; want true", ok, err)
		}
		if ok, err := cd.Exists(ctx, a); err != nil || ok {
			t.Fatalf("Exists after delete = %v, %v; want false", ok, err)
		}
		if ok, err := cd.Delete(ctx, a); err != nil || ok {
			t.Fatalf("second Delete = %v, %v; want false", ok, err)
		}
		got, err := cd.GetAll(ctx, "mattermost_app", "delete", alive)
		if err != nil || len(got) != 1 || got[0].ID != b.ID {
			t.Fatalf("GetAll after delete = %s, %v; want the row on port 8075 only", rowsString(got), err)
		}
	})
	t.Run("a ping refreshes the row and reports a missing one", func(t *testing.T) {
		d := newDiscoveryRow("ping", "10.0.2.1", 8074, alive-1) // stale: hidden
		if err := cd.Save(ctx, d); err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second ping writes the same value (MySQL reports no change)
			if ok, err := cd.SetLastPingAt(ctx, d, now); err != nil || !ok {
				t.Fatalf("SetLastPingAt = %v, %v; want true", ok, err)
			}
		}
		got, err := cd.GetAll(ctx, "mattermost_app", "ping", alive)
		if err != nil || len(got) != 1 || got[0].LastPingAt != now {
			t.Fatalf("GetAll after ping = %s, %v; want the row with LastPingAt %d", rowsString(got), err, now)
		}
		gone := newDiscoveryRow("ping", "10.0.2.2", 8074, now)
		if ok, err := cd.SetLastPingAt(ctx, gone, now); err != nil || ok {
			t.Fatalf("SetLastPingAt of a missing row = %v, %v; want false", ok, err)
		}
	})
	t.Run("cleanup deletes stale rows of every cluster and counts them", func(t *testing.T) {
		// Rows of the earlier subtests stay; make every stale row here
		// older than anything above.
		const cutoff = int64(1000)
		keep := newDiscoveryRow("cleanup", "10.0.3.1", 8074, cutoff)
		for _, d := range []*store.ClusterDiscovery{
			newDiscoveryRow("cleanup", "10.0.3.2", 8074, cutoff-1),
			newDiscoveryRow("cleanup-other", "10.0.3.3", 8074, 1),
			keep,
		} {
			if err := cd.Save(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		n, err := cd.Cleanup(ctx, cutoff)
		if err != nil || n != 2 {
			t.Fatalf("Cleanup = %d, %v; want 2", n, err)
		}
		got, err := cd.GetAll(ctx, "mattermost_app", "cleanup", 0)
		if err != nil || len(got) != 1 || got[0].ID != keep.ID {
			t.Fatalf("GetAll after cleanup = %s, %v; want the fresh row", rowsString(got), err)
		}
	})
	t.Run("a second row with the same id conflicts and an incomplete row is refused", func(t *testing.T) {
		d := newDiscoveryRow("conflict", "10.0.4.1", 8074, now)
		if err := cd.Save(ctx, d); err != nil {
			t.Fatal(err)
		}
		var conflict *store.ConflictError
		if err := cd.Save(ctx, d); !errors.As(err, &conflict) {
			t.Fatalf("second Save: err = %v, want *ConflictError", err)
		}
		for field, mutate := range map[string]func(*store.ClusterDiscovery){
			"Id":          func(d *store.ClusterDiscovery) { d.ID = "" },
			"Type":        func(d *store.ClusterDiscovery) { d.Type = "" },
			"ClusterName": func(d *store.ClusterDiscovery) { d.ClusterName = "" },
			"Hostname":    func(d *store.ClusterDiscovery) { d.Hostname = "" },
		} {
			bad := newDiscoveryRow("conflict", "10.0.4.2", 8074, now)
			mutate(bad)
			var invalid *store.InvalidError
			if err := cd.Save(ctx, bad); !errors.As(err, &invalid) || invalid.Field != field {
				t.Errorf("Save without %s: err = %v, want *InvalidError for it", field, err)
			}
		}
	})
	t.Run("insert if absent keeps the first value, also under a race", func(t *testing.T) {
		sys := s.System()
		got, err := sys.InsertIfAbsent(ctx, "InsertIfAbsentTest", "first")
		if err != nil || got != "first" {
			t.Fatalf("InsertIfAbsent = %q, %v; want first", got, err)
		}
		if got, err := sys.InsertIfAbsent(ctx, "InsertIfAbsentTest", "second"); err != nil || got != "first" {
			t.Fatalf("second InsertIfAbsent = %q, %v; want first", got, err)
		}

		const racers = 8
		var wg sync.WaitGroup
		results := make([]string, racers)
		errs := make([]error, racers)
		for i := range racers {
			wg.Go(func() {
				results[i], errs[i] = sys.InsertIfAbsent(ctx, "ClusterEncryptionKeyRace", fmt.Sprintf("key-%d", i))
			})
		}
		wg.Wait()
		for i := range racers {
			if errs[i] != nil {
				t.Fatalf("racer %d: %v", i, errs[i])
			}
			if results[i] != results[0] {
				t.Fatalf("racers got different values: %q", results)
			}
		}
		if stored, err := sys.Get(ctx, "ClusterEncryptionKeyRace"); err != nil || stored != results[0] {
			t.Fatalf("Get = %q, %v; want the value every racer got, %q", stored, err, results[0])
		}
	})
}

// rowsString formats discovery rows for failure messages.
func rowsString(rows []*store.ClusterDiscovery) string {
	out := "["
	for i, d := range rows {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("%s:%s:%d@%d", d.ClusterName, d.Hostname, d.GossipPort, d.LastPingAt)
	}
	return out + "]"
}
