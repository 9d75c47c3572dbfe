package jobs

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed331fb32b/chorus/node/config"
	"github.com/seed331fb32b/chorus/node/store"
	"github.com/seed331fb32b/chorus/node/store/storetest"
)

// waitRun waits for a run of typ to end and returns it.
func waitRun(t *testing.T, db *store.Store, typ string) *store.Job {
	t.Helper()
	var run *store.Job
	waitFor(t, "a finished "+typ+" run", func() bool {
		j, err := db.Jobs().GetNewestOfType(t.Context(), typ)
		if err != nil || j.Status == store.JobStatusPending || j.Status == store.JobStatusInProgress {
			return false
		}
		run = j
		return true
	})
	return run
}

func TestDataRetentionDeletesOldPostsWhenEnabled(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, config.DriverSQLite)
	now := time.Now()
	var kept []string
	for i, age := range []time.Duration{400 * 24 * time.Hour, 40 * 24 * time.Hour, 31 * 24 * time.Hour, 29 * 24 * time.Hour, time.Hour} {
		at := now.Add(-age).UnixMilli()
		p := &store.Post{ID: storetest.NewID(), ChannelID: "c", UserID: "u", CreateAt: at, UpdateAt: at, Message: "m", Props: "{}"}
		if err := db.Posts().Save(t.Context(), p); err != nil {
			t.Fatal(err)
		}
		if i >= 3 {
			kept = append(kept, p.ID)
		}
	}
	var settings atomic.Pointer[config.DataRetentionSettings]
	settings.Store(&config.DataRetentionSettings{EnableMessageDeletion: false, MessageRetentionDays: 30, BatchSize: 2})
	job := DataRetention(db.Posts(), func() config.DataRetentionSettings { return *settings.Load() })
	l := leading(true)
	startScheduler(t, fastConfig("n"), db.Jobs(), l, job)

	waitFor(t, "many checks", func() bool { return l.asked.Load() > 20 })
	if _, err := db.Jobs().GetNewestOfType(t.Context(), TypeDataRetention); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a data retention run while EnableMessageDeletion is off: %v", err)
	}

	settings.Store(&config.DataRetentionSettings{EnableMessageDeletion: true, MessageRetentionDays: 30, BatchSize: 2})
	run := waitRun(t, db, TypeDataRetention)
	if run.Status != store.JobStatusSuccess || run.Data["deleted"] != "3" || run.Data["retention_days"] != "30" {
		t.Fatalf("run = %+v; want success with 3 deleted", run)
	}
	for _, id := range kept {
		if _, err := db.Posts().Get(store.WithMaster(t.Context()), id); err != nil {
			t.Errorf("a post younger than 30 days is gone: %v", err)
		}
	}
}

func TestExpiredSessionsCleanupDeletesOnlyExpiredSessions(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, config.DriverSQLite)
	now := time.Now().UnixMilli()
	live := &store.Session{ID: storetest.NewID(), Token: storetest.NewID(), UserID: "u", ExpiresAt: now + 3600_000, Props: "{}"}
	forever := &store.Session{ID: storetest.NewID(), Token: storetest.NewID(), UserID: "u", ExpiresAt: 0, Props: "{}"}
	for _, s := range []*store.Session{live, forever,
		{ID: storetest.NewID(), Token: storetest.NewID(), UserID: "u", ExpiresAt: now - 1, Props: "{}"},
		{ID: storetest.NewID(), Token: storetest.NewID(), UserID: "u", ExpiresAt: now - 3600_000, Props: "{}"},
	} {
		if err := db.Sessions().Save(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	startScheduler(t, fastConfig("n"), db.Jobs(), nil, ExpiredSessionsCleanup(db.Sessions()))
	if run := waitRun(t, db, TypeExpiredSessions); run.Status != store.JobStatusSuccess || run.Data["deleted"] != "2" {
		t.Fatalf("run = %+v; want success with 2 deleted", run)
	}
	for _, s := range []*store.Session{live, forever} {
		if _, err := db.Sessions().GetByToken(t.Context(), s.Token); err != nil {
			t.Errorf("a live session is gone: %v", err)
		}
	}
}

func TestClusterDiscoveryCleanupDeletesStaleRows(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, config.DriverSQLite)
	now := time.Now()
	for i, ping := range []time.Time{now, now.Add(-31 * time.Minute), now.Add(-24 * time.Hour)} {
		d := &store.ClusterDiscovery{ID: storetest.NewID(), Type: "mattermost_app", ClusterName: "c",
			Hostname: "10.0.0.1", GossipPort: 8074 + i, CreateAt: ping.UnixMilli(), LastPingAt: ping.UnixMilli()}
		if err := db.ClusterDiscovery().Save(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	startScheduler(t, fastConfig("n"), db.Jobs(), nil, ClusterDiscoveryCleanup(db.ClusterDiscovery(), 30*time.Minute))
	if run := waitRun(t, db, TypeClusterDiscovery); run.Status != store.JobStatusSuccess || run.Data["deleted"] != "2" {
		t.Fatalf("run = %+v; want success with 2 deleted", run)
	}
	if rows, _ := db.ClusterDiscovery().GetAll(t.Context(), "mattermost_app", "c", 0); len(rows) != 1 {
		t.Fatalf("%d rows left, want the live one", len(rows))
	}
}

func TestFailingRunIsRecordedAsAnError(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, config.DriverSQLite)
	job := Job{Type: "failing", Interval: time.Hour, Run: func(context.Context, *store.Job) (map[string]string, error) {
		return map[string]string{"partial": "1"}, errors.New("disk on fire")
	}}
	startScheduler(t, fastConfig("n"), db.Jobs(), nil, job)
	run := waitRun(t, db, "failing")
	if run.Status != store.JobStatusError || run.Data["error"] != "disk on fire" || run.Data["partial"] != "1" {
		t.Fatalf("run = %+v; want error with its message and data", run)
	}
}

func TestDeleteInBatchesStopsAtAShortBatch(t *testing.T) {
	calls := 0
	n, err := deleteInBatches(t.Context(), 10, 0, func(context.Context, int) (int64, error) {
		calls++
		if calls < 3 {
			return 10, nil
		}
		return 4, nil
	})
	if err != nil || n != 24 || calls != 3 {
		t.Fatalf("deleteInBatches = %d, %v after %d calls; want 24 after 3", n, err, calls)
	}
}
