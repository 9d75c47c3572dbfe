package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/seed331fb32b/chorus/node/config"
	"github.com/seed331fb32b/chorus/node/store"
	"github.com/seed331fb32b/chorus/node/store/storetest"
)

// longStop bounds every wait; reaching it is a failure.
const longStop = 20 * time.Second

// fastConfig shrinks the intervals so a test sees many checks and
// heartbeats.
func fastConfig(node string) Config {
	return Config{
		RunScheduler:      true,
		NodeID:            node,
		CheckInterval:     5 * time.Millisecond,
		HeartbeatInterval: 20 * time.Millisecond,
		StaleAfter:        300 * time.Millisecond,
	}
}

// leader is a Leadership the test flips, counting how often it is asked.
type leader struct {
	on    atomic.Bool
	asked atomic.Int64
}

func (l *leader) IsLeader() bool {
	l.asked.Add(1)
	return l.on.Load()
}

func leading(on bool) *leader {
	l := &leader{}
	l.on.Store(on)
	return l
}

// startScheduler starts a scheduler of jobs on st, stopped when the test
// ends.
func startScheduler(t *testing.T, cfg Config, st Store, l Leadership, jobs ...Job) *Scheduler {
	t.Helper()
	deps := Deps{Store: st, Logger: zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)).Named(cfg.NodeID)}
	if l != nil {
		deps.Leader = l
	}
	s, err := New(cfg, deps, jobs...)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Stop(ctx)
	})
	return s
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(longStop)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// runLog records a job's runs across schedulers: how many run at once,
// and how often each run id ran.
type runLog struct {
	now, most atomic.Int32
	mu        sync.Mutex
	byID      map[string]int
	byNode    map[string]int
}

func newRunLog() *runLog { return &runLog{byID: map[string]int{}, byNode: map[string]int{}} }

// job returns a job of typ that records its runs as node and does work,
// a few database reads.
func (l *runLog) job(typ, node string, st *store.Store) Job {
	return Job{
		Type:     typ,
		Interval: time.Millisecond, // due again as soon as it ends
		Run: func(ctx context.Context, run *store.Job) (map[string]string, error) {
			n := l.now.Add(1)
			defer l.now.Add(-1)
			for {
				m := l.most.Load()
				if n <= m || l.most.CompareAndSwap(m, n) {
					break
				}
			}
			l.mu.Lock()
			l.byID[run.ID]++
			l.byNode[node]++
			l.mu.Unlock()
			for range 3 {
				if _, err := st.Jobs().GetNewestOfType(ctx, typ); err != nil {
					return nil, err
				}
			}
			return map[string]string{"ran_on": node}, nil
		},
	}
}

func (l *runLog) total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, c := range l.byID {
		n += c
	}
	return n
}

func TestRacingSchedulersNeverRunAJobTwiceAtOnce(t *testing.T) {
	t.Parallel()
	for _, driver := range storetest.Drivers() {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			db := storetest.Open(t, driver)
			log := newRunLog()
			// Three nodes all believe they lead, as during a leader change.
			var scheds []*Scheduler
			for _, node := range []string{"node-a", "node-b", "node-c"} {
				cfg := fastConfig(node)
				// No run is abandoned here, however slow the machine: the
				// claims alone must keep runs apart.
				cfg.StaleAfter = time.Minute
				scheds = append(scheds, startScheduler(t, cfg, db.Jobs(), nil, log.job("race", node, db)))
			}
			const runs = 30
			waitFor(t, fmt.Sprintf("%d runs", runs), func() bool { return log.total() >= runs })
			for _, s := range scheds {
				if err := s.Stop(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			if m := log.most.Load(); m != 1 {
				t.Errorf("%d runs at once, want 1", m)
			}
			log.mu.Lock()
			defer log.mu.Unlock()
			for id, n := range log.byID {
				if n != 1 {
					t.Errorf("run %s ran %d times", id, n)
				}
			}
			t.Logf("runs per node: %v", log.byNode)
			rows, err := db.Jobs().GetAllPage(t.Context(), "race", "", 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			ran := 0
			for _, r := range rows {
				switch r.Status {
				case store.JobStatusSuccess:
					ran++
					if log.byID[r.ID] != 1 || r.Data["ran_on"] == "" || r.Data["node_id"] != r.Data["ran_on"] {
						t.Errorf("row %s: data %v, ran %d times", r.ID, r.Data, log.byID[r.ID])
					}
				case store.JobStatusCanceled:
					ran++ // in progress when its scheduler stopped
					if log.byID[r.ID] != 1 {
						t.Errorf("canceled row %s ran %d times", r.ID, log.byID[r.ID])
					}
				case store.JobStatusPending:
					// created by a scheduler just before it stopped
				default:
					t.Errorf("row %s has status %s (%s)", r.ID, r.Status, r.Data["error"])
				}
			}
			if ran != len(log.byID) {
				t.Errorf("%d successful or canceled rows for %d runs", ran, len(log.byID))
			}
		})
	}
}

// countingStore is the real Jobs store, counting the scheduler's checks.
type countingStore struct {
	Store
	checks atomic.Int64
	fail   atomic.Bool // every write fails, as if the database were unreachable
}

func (c *countingStore) GetNewestOfType(ctx context.Context, typ string) (*store.Job, error) {
	c.checks.Add(1)
	return c.Store.GetNewestOfType(ctx, typ)
}

var errUnreachable = errors.New("test: database unreachable")

func (c *countingStore) UpdateOptimistically(ctx context.Context, j *store.Job, current string) (bool, error) {
	if c.fail.Load() {
		return false, errUnreachable
	}
	return c.Store.UpdateOptimistically(ctx, j, current)
}

// blockingJob runs until released (or its context ends), reporting its
// starts.
type blockingJob struct {
	started chan string   // run ids
	release chan struct{} // closed to let runs end
	ended   chan error    // what each run returned
}

func newBlockingJob() *blockingJob {
	return &blockingJob{started: make(chan string, 10), release: make(chan struct{}), ended: make(chan error, 10)}
}

func (b *blockingJob) job(typ string) Job {
	return Job{Type: typ, Interval: time.Millisecond, Run: func(ctx context.Context, run *store.Job) (map[string]string, error) {
		b.started <- run.ID
		var err error
		select {
		case <-b.release:
		case <-ctx.Done():
			err = ctx.Err()
		}
		b.ended <- err
		return nil, err
	}}
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(longStop):
		t.Fatalf("no %s within %s", what, longStop)
	}
	var zero T
	return zero
}

func TestNewLeaderWaitsForTheOldLeadersRunToEnd(t *testing.T) {
	t.Parallel()
	for _, driver := range storetest.Drivers() {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			db := storetest.Open(t, driver)
			aJob, bJob := newBlockingJob(), newBlockingJob()
			la, lb := leading(true), leading(false)
			startScheduler(t, fastConfig("a"), db.Jobs(), la, aJob.job("handover"))
			bStore := &countingStore{Store: db.Jobs()}
			startScheduler(t, fastConfig("b"), bStore, lb, bJob.job("handover"))
			first := recv(t, aJob.started, "run on the old leader")

			// Leadership moves while A's run is in progress.
			la.on.Store(false)
			lb.on.Store(true)
			seen := bStore.checks.Load()
			waitFor(t, "the new leader to check many times", func() bool { return bStore.checks.Load() > seen+20 })
			select {
			case id := <-bJob.started:
				t.Fatalf("the new leader started run %s while %s was in progress", id, first)
			default:
			}
			close(aJob.release)
			second := recv(t, bJob.started, "run on the new leader")
			if second == first {
				t.Fatalf("the new leader ran the old leader's run %s again", first)
			}
			done, err := db.Jobs().Get(t.Context(), first)
			if err != nil || done.Status != store.JobStatusSuccess || done.Data["node_id"] != "a" {
				t.Fatalf("the old leader's run: %+v, %v; want success on a", done, err)
			}
			close(bJob.release)
		})
	}
}

func TestRunOfADeadNodeIsDeclaredAbandonedThenReplaced(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, config.DriverSQLite)
	// The row a leader leaves when it dies mid-run.
	old := time.Now().Add(-time.Hour).UnixMilli()
	dead := &store.Job{ID: nextRunID("orphan", nil), Type: "orphan", CreateAt: old, StartAt: old, LastActivityAt: old,
		Status: store.JobStatusInProgress, Data: map[string]string{"node_id": "dead-node"}}
	if err := db.Jobs().Save(t.Context(), dead); err != nil {
		t.Fatal(err)
	}
	j := newBlockingJob()
	startScheduler(t, fastConfig("b"), db.Jobs(), nil, j.job("orphan"))
	next := recv(t, j.started, "the next run")
	if next == dead.ID || next != nextRunID("orphan", dead) {
		t.Fatalf("next run %s, want the dead run's successor", next)
	}
	got, err := db.Jobs().Get(t.Context(), dead.ID)
	if err != nil || got.Status != store.JobStatusError || !strings.Contains(got.Data["error"], "abandoned") {
		t.Fatalf("dead run = %+v, %v; want error, abandoned", got, err)
	}
	close(j.release)
}

func TestRunThatCannotHeartbeatStopsBeforeAnotherNodeTakesOver(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, config.DriverSQLite)
	aStore := &countingStore{Store: db.Jobs()}
	aJob, bJob := newBlockingJob(), newBlockingJob()
	la, lb := leading(true), leading(false)
	startScheduler(t, fastConfig("a"), aStore, la, aJob.job("cut"))
	first := recv(t, aJob.started, "run on A")

	// A loses the database and its leadership; B leads.
	aStore.fail.Store(true)
	la.on.Store(false)
	lb.on.Store(true)
	startScheduler(t, fastConfig("b"), db.Jobs(), lb, bJob.job("cut"))
	second := recv(t, bJob.started, "B's run")
	select {
	case err := <-aJob.ended:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("A's run ended with %v, want canceled", err)
		}
	default:
		t.Fatal("B started its run while A's was still going")
	}
	if second == first {
		t.Fatal("B ran A's run")
	}
	got, err := db.Jobs().Get(t.Context(), first)
	if err != nil || got.Status != store.JobStatusError {
		t.Fatalf("A's run = %+v, %v; want declared abandoned", got, err)
	}
	close(bJob.release)
}

func TestNoRunsWithoutLeadershipOrScheduler(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		scheduler bool
		leads     bool
	}{
		{"not the leader", true, false},
		{"RunScheduler off on the leader", false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := storetest.Open(t, config.DriverSQLite)
			cfg := fastConfig("n")
			cfg.RunScheduler = tt.scheduler
			l := leading(tt.leads)
			log := newRunLog()
			startScheduler(t, cfg, db.Jobs(), l, log.job("idle", "n", db))
			waitFor(t, "many checks", func() bool { return l.asked.Load() > 20 })
			if rows, _ := db.Jobs().GetAllPage(t.Context(), "", "", 0, 10); len(rows) != 0 || log.total() != 0 {
				t.Fatalf("%d rows, %d runs; want none", len(rows), log.total())
			}
		})
	}
}

func TestStopCancelsARunAndRecordsIt(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, config.DriverSQLite)
	j := newBlockingJob()
	s := startScheduler(t, fastConfig("n"), db.Jobs(), nil, j.job("stopped"))
	id := recv(t, j.started, "a run")
	if err := s.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := db.Jobs().Get(t.Context(), id)
	if err != nil || got.Status != store.JobStatusCanceled {
		t.Fatalf("run after Stop = %+v, %v; want canceled", got, err)
	}
}

func TestListPagesNewestFirst(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, config.DriverSQLite)
	s, err := New(fastConfig("n"), Deps{Store: db.Jobs()})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 70 {
		typ := "a"
		if i%2 == 1 {
			typ = "b"
		}
		j := &store.Job{ID: storetest.NewID(), Type: typ, CreateAt: int64(1000 + i), Status: store.JobStatusSuccess}
		if err := db.Jobs().Save(t.Context(), j); err != nil {
			t.Fatal(err)
		}
	}
	page, err := s.List(t.Context(), Filter{})
	if err != nil || len(page) != 60 || page[0].CreateAt != 1069 {
		t.Fatalf("default page: %d jobs, %v; want 60, newest first", len(page), err)
	}
	page, _ = s.List(t.Context(), Filter{Page: 1, PerPage: 60})
	if len(page) != 10 {
		t.Errorf("second page: %d jobs, want 10", len(page))
	}
	page, _ = s.List(t.Context(), Filter{Type: "b", PerPage: 1000})
	if len(page) != 35 {
		t.Errorf("type b: %d jobs, want 35", len(page))
	}
	for _, j := range page {
		if j.Type != "b" {
			t.Fatalf("type filter let %q through", j.Type)
		}
	}
}

func TestNewRefusesBadJobs(t *testing.T) {
	db := storetest.Open(t, config.DriverSQLite)
	run := func(context.Context, *store.Job) (map[string]string, error) { return nil, nil }
	for name, jobs := range map[string][]Job{
		"empty type":     {{Interval: time.Second, Run: run}},
		"long type":      {{Type: strings.Repeat("x", 33), Interval: time.Second, Run: run}},
		"duplicate":      {{Type: "a", Interval: time.Second, Run: run}, {Type: "a", Interval: time.Second, Run: run}},
		"no interval":    {{Type: "a", Run: run}},
		"no run":         {{Type: "a", Interval: time.Second}},
		"stale too soon": nil,
	} {
		cfg := fastConfig("n")
		if name == "stale too soon" {
			cfg.StaleAfter = cfg.HeartbeatInterval
		}
		if _, err := New(cfg, Deps{Store: db.Jobs()}, jobs...); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	if _, err := New(fastConfig("n"), Deps{}); err == nil {
		t.Error("New accepted no store")
	}
}

func TestRunIDsChain(t *testing.T) {
	first := nextRunID("t", nil)
	second := nextRunID("t", &store.Job{ID: first})
	if len(first) != 26 || first == second || nextRunID("t", nil) != first || nextRunID("u", nil) == first {
		t.Fatalf("ids %s %s: want 26 characters, deterministic, per type and predecessor", first, second)
	}
}
