package storetest

import (
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/seed331fb32b/chorus/node/store"
)

// newJobRow returns a pending job of typ created at createAt.
func newJobRow(typ string, createAt int64) *store.Job {
	return &store.Job{
		ID:             NewID(),
		Type:           typ,
		Priority:       1,
		CreateAt:       createAt,
		LastActivityAt: createAt,
		Status:         store.JobStatusPending,
		Data:           map[string]string{"seq": "1"},
	}
}

// Jobs states the behaviour of the Jobs accessor, whose conditional
// updates are how schedulers on several nodes claim a run exactly once.
func Jobs(t *testing.T, s *store.Store) {
	js := s.Jobs()
	ctx := t.Context()
	const now = int64(1700000000000)

	t.Run("saved job is read back with every field", func(t *testing.T) {
		j := newJobRow("roundtrip", now)
		j.StartAt, j.Progress = now+1, 42
		j.Data = map[string]string{"deleted": "12", "note": "héllo"}
		if err := js.Save(ctx, j); err != nil {
			t.Fatal(err)
		}
		got, err := js.Get(ctx, j.ID)
		if err != nil || !reflect.DeepEqual(got, j) {
			t.Fatalf("Get = %+v, %v; want %+v", got, err, j)
		}
		empty := newJobRow("roundtrip", now)
		empty.Data = nil
		if err := js.Save(ctx, empty); err != nil {
			t.Fatal(err)
		}
		if got, err := js.Get(ctx, empty.ID); err != nil || got.Data == nil || len(got.Data) != 0 {
			t.Fatalf("Get of a job without data = %+v, %v; want an empty, non-nil Data", got, err)
		}
	})
	t.Run("missing job is not found and a second save of an id conflicts", func(t *testing.T) {
		if _, err := js.Get(ctx, NewID()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get of a missing job: err = %v, want ErrNotFound", err)
		}
		if _, err := js.GetNewestOfType(ctx, "no-such-type"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetNewestOfType of an unknown type: err = %v, want ErrNotFound", err)
		}
		j := newJobRow("conflict", now)
		if err := js.Save(ctx, j); err != nil {
			t.Fatal(err)
		}
		var conflict *store.ConflictError
		if err := js.Save(ctx, j); !errors.As(err, &conflict) {
			t.Fatalf("second Save: err = %v, want *ConflictError", err)
		}
		var invalid *store.InvalidError
		if err := js.Save(ctx, &store.Job{Type: "x"}); !errors.As(err, &invalid) {
			t.Fatalf("Save without id: err = %v, want *InvalidError", err)
		}
	})
	t.Run("newest of a type is the one created last", func(t *testing.T) {
		for i, at := range []int64{now + 2, now + 5, now + 1} {
			j := newJobRow("newest", at)
			j.Priority = int64(i)
			if err := js.Save(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
		if err := js.Save(ctx, newJobRow("newest-other", now+9)); err != nil {
			t.Fatal(err)
		}
		got, err := js.GetNewestOfType(ctx, "newest")
		if err != nil || got.CreateAt != now+5 {
			t.Fatalf("GetNewestOfType = %+v, %v; want the job created at now+5", got, err)
		}
	})
	t.Run("listing filters by type and status, newest first, in pages", func(t *testing.T) {
		var ids []string // newest first
		for i := range 5 {
			j := newJobRow("list", now+100-int64(i))
			if i == 2 {
				j.Status = store.JobStatusSuccess
			}
			if err := js.Save(ctx, j); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, j.ID)
		}
		page := func(typ, status string, offset, limit int) []string {
			t.Helper()
			jobs, err := js.GetAllPage(ctx, typ, status, offset, limit)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, j := range jobs {
				out = append(out, j.ID)
			}
			return out
		}
		if got := page("list", "", 0, 3); !reflect.DeepEqual(got, ids[:3]) {
			t.Errorf("first page = %v, want %v", got, ids[:3])
		}
		if got := page("list", "", 3, 3); !reflect.DeepEqual(got, ids[3:]) {
			t.Errorf("second page = %v, want %v", got, ids[3:])
		}
		if got := page("list", store.JobStatusSuccess, 0, 10); !reflect.DeepEqual(got, ids[2:3]) {
			t.Errorf("successful jobs = %v, want %v", got, ids[2:3])
		}
		if got := page("list", "", 10, 10); len(got) != 0 {
			t.Errorf("page past the end = %v, want none", got)
		}
		if got := page("", "", 0, 1000); len(got) < 5 {
			t.Errorf("every type: %d jobs, want at least 5", len(got))
		}
		var invalid *store.InvalidError
		if _, err := js.GetAllPage(ctx, "", "", 0, 0); !errors.As(err, &invalid) {
			t.Errorf("limit 0: err = %v, want *InvalidError", err)
		}
	})
	t.Run("of racing claims on a pending job exactly one wins", func(t *testing.T) {
		for round := range 5 {
			j := newJobRow("claim", now+int64(round))
			if err := js.Save(ctx, j); err != nil {
				t.Fatal(err)
			}
			const racers = 6
			var wins atomic.Int32
			var wg sync.WaitGroup
			for i := range racers {
				wg.Go(func() {
					ok, err := js.UpdateStatusOptimistically(ctx, j.ID, store.JobStatusPending, store.JobStatusInProgress, now+10+int64(i))
					if err != nil {
						t.Errorf("claim: %v", err)
					}
					if ok {
						wins.Add(1)
					}
				})
			}
			wg.Wait()
			if n := wins.Load(); n != 1 {
				t.Fatalf("round %d: %d claims won, want exactly 1", round, n)
			}
			got, err := js.Get(ctx, j.ID)
			if err != nil || got.Status != store.JobStatusInProgress || got.StartAt < now+10 || got.StartAt != got.LastActivityAt {
				t.Fatalf("claimed job = %+v, %v; want in_progress with StartAt set", got, err)
			}
		}
	})
	t.Run("a run's heartbeat and end apply only while it is still in progress", func(t *testing.T) {
		j := newJobRow("update", now)
		if err := js.Save(ctx, j); err != nil {
			t.Fatal(err)
		}
		if ok, err := js.UpdateStatusOptimistically(ctx, j.ID, store.JobStatusPending, store.JobStatusInProgress, now+1); err != nil || !ok {
			t.Fatalf("claim = %v, %v", ok, err)
		}
		run := *j
		run.Status, run.LastActivityAt, run.Progress = store.JobStatusInProgress, now+2, 50
		for range 2 { // the same heartbeat twice writes identical values
			if ok, err := js.UpdateOptimistically(ctx, &run, store.JobStatusInProgress); err != nil || !ok {
				t.Fatalf("heartbeat = %v, %v; want true", ok, err)
			}
		}
		// Another node finds it idle and declares it abandoned.
		abandoned := run
		abandoned.Status, abandoned.LastActivityAt, abandoned.Data = store.JobStatusError, now+100, map[string]string{"error": "abandoned"}
		if ok, err := js.UpdateIfIdle(ctx, &abandoned, store.JobStatusInProgress, now+2); err != nil || ok {
			t.Fatalf("UpdateIfIdle of a run active at the cutoff = %v, %v; want false", ok, err)
		}
		if ok, err := js.UpdateIfIdle(ctx, &abandoned, store.JobStatusInProgress, now+3); err != nil || !ok {
			t.Fatalf("UpdateIfIdle of an idle run = %v, %v; want true", ok, err)
		}
		// The original runner's heartbeat and end now fail.
		run.LastActivityAt = now + 101
		if ok, err := js.UpdateOptimistically(ctx, &run, store.JobStatusInProgress); err != nil || ok {
			t.Fatalf("heartbeat of an abandoned run = %v, %v; want false", ok, err)
		}
		run.Status = store.JobStatusSuccess
		if ok, err := js.UpdateOptimistically(ctx, &run, store.JobStatusInProgress); err != nil || ok {
			t.Fatalf("end of an abandoned run = %v, %v; want false", ok, err)
		}
		got, err := js.Get(ctx, j.ID)
		if err != nil || got.Status != store.JobStatusError || got.Data["error"] != "abandoned" {
			t.Fatalf("job = %+v, %v; want the abandoned state", got, err)
		}
		if ok, err := js.UpdateStatusOptimistically(ctx, NewID(), store.JobStatusPending, store.JobStatusInProgress, now); err != nil || ok {
			t.Fatalf("claim of a missing job = %v, %v; want false", ok, err)
		}
	})
	t.Run("expired sessions are deleted in batches, never-expiring ones stay", func(t *testing.T) {
		ss := s.Sessions()
		var expired []string
		for i, exp := range []int64{now - 3, now - 2, now - 1, now, 0} {
			sess := &store.Session{ID: NewID(), Token: NewID(), UserID: NewID(), CreateAt: now - 10, ExpiresAt: exp, Props: "{}"}
			if err := ss.Save(ctx, sess); err != nil {
				t.Fatal(err)
			}
			if i < 3 {
				expired = append(expired, sess.Token)
			}
			defer func() { _ = ss.Remove(ctx, sess.ID) }()
		}
		if n, err := ss.DeleteExpired(ctx, now, 2); err != nil || n != 2 {
			t.Fatalf("first batch = %d, %v; want 2", n, err)
		}
		if n, err := ss.DeleteExpired(ctx, now, 2); err != nil || n != 1 {
			t.Fatalf("second batch = %d, %v; want 1", n, err)
		}
		if n, err := ss.DeleteExpired(ctx, now, 2); err != nil || n != 0 {
			t.Fatalf("third batch = %d, %v; want 0", n, err)
		}
		for _, tok := range expired {
			if _, err := ss.GetByToken(ctx, tok); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("expired session still there: err = %v", err)
			}
		}
	})
	t.Run("posts older than the cutoff are deleted in batches", func(t *testing.T) {
		ps := s.Posts()
		channelID := NewID()
		var kept []string
		for i, at := range []int64{now - 30, now - 20, now - 10, now, now + 10} {
			p := &store.Post{ID: NewID(), ChannelID: channelID, UserID: NewID(), CreateAt: at, UpdateAt: at, Message: "m", Props: "{}"}
			if err := ps.Save(ctx, p); err != nil {
				t.Fatal(err)
			}
			if i >= 3 {
				kept = append(kept, p.ID)
			}
		}
		total := int64(0)
		for range 3 {
			n, err := ps.PermanentDeleteBefore(ctx, now, 2)
			if err != nil {
				t.Fatal(err)
			}
			total += n
		}
		if total != 3 {
			t.Fatalf("deleted %d posts, want 3", total)
		}
		for _, id := range kept {
			if _, err := ps.Get(store.WithMaster(ctx), id); err != nil {
				t.Errorf("post %s at or after the cutoff: %v", id, err)
			}
		}
	})
}
