package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/seed331fb32b/chorus/node/store"
)

// Config holds a scheduler's settings. Start from [DefaultConfig].
type Config struct {
	// RunScheduler is JobSettings.RunScheduler: false makes this node
	// never schedule, even as the leader.
	RunScheduler bool
	// NodeID is recorded in each run this node claims (Data["node_id"]).
	NodeID string
	// CheckInterval is how often the leader looks for runs to create,
	// claim or declare abandoned. Lower: a due job starts sooner after its
	// time or a leader change, more database reads.
	CheckInterval time.Duration
	// HeartbeatInterval is how often a run in progress refreshes its
	// LastActivityAt.
	HeartbeatInterval time.Duration
	// StaleAfter is how long a run in progress may go without a heartbeat
	// before another node declares it abandoned; a run whose last
	// heartbeat the database took is StaleAfter/2 old is canceled by its
	// own node, so no two runs of a job overlap as long as a run returns
	// within StaleAfter/2 of its context ending. Must exceed
	// 2 × HeartbeatInterval. Lower: a crashed leader's run is replaced
	// sooner; a database hiccup cancels runs sooner.
	StaleAfter time.Duration
}

// DefaultConfig returns the settings a node runs with.
func DefaultConfig() Config {
	return Config{
		RunScheduler:      true,             // JobSettings.RunScheduler's default
		CheckInterval:     10 * time.Second, // jobs run hourly or daily: seconds late is nothing
		HeartbeatInterval: 10 * time.Second, // a few writes a minute per running job
		StaleAfter:        2 * time.Minute,  // a dead leader's run is replaced within minutes
	}
}

// Job is one kind of scheduled work.
type Job struct {
	// Type names the job (the Jobs table's Type, at most 32 bytes), e.g.
	// "data_retention".
	Type string
	// Interval is the time from one run's creation to the next's.
	Interval time.Duration
	// Enabled, when not nil, is asked before each new run; false skips
	// it (no row is written). It may read settings that change on reload.
	Enabled func() bool
	// Run does the work of one run. It must return soon after ctx ends
	// (the run was declared abandoned, or the node is stopping). data is
	// recorded in the run's row; an error marks the run failed.
	Run func(ctx context.Context, run *store.Job) (data map[string]string, err error)
}

// Store is the Jobs table (node/store's *JobStore satisfies it). Calls do
// I/O, bounded by ctx; jobs are not kept.
type Store interface {
	Save(ctx context.Context, j *store.Job) error
	GetNewestOfType(ctx context.Context, typ string) (*store.Job, error)
	GetAllPage(ctx context.Context, typ, status string, offset, limit int) ([]*store.Job, error)
	UpdateStatusOptimistically(ctx context.Context, id, currentStatus, newStatus string, at int64) (bool, error)
	UpdateOptimistically(ctx context.Context, j *store.Job, currentStatus string) (bool, error)
	UpdateIfIdle(ctx context.Context, j *store.Job, currentStatus string, idleBefore int64) (bool, error)
}

// Leadership says whether this node leads its cluster now (node/cluster's
// *Cluster satisfies it). It must be cheap and never block.
type Leadership interface {
	IsLeader() bool
}

// Deps are what a Scheduler needs from the rest of the node.
type Deps struct {
	// Store is the Jobs table. Required.
	Store Store
	// Leader says whether this node leads. Nil: it always does (a node
	// without a cluster).
	Leader Leadership
	// Logger receives runs' starts, ends and failures. Nil discards.
	Logger *zap.Logger
}

// Scheduler creates, claims and runs the runs of its jobs while this node
// leads. All methods are safe for concurrent use.
type Scheduler struct {
	cfg  Config
	deps Deps
	jobs []Job
	log  *zap.Logger
	now  func() time.Time // tests move it

	wake   chan struct{} // has a value when a check should happen now
	ctx    context.Context
	cancel context.CancelFunc
	loop   sync.WaitGroup // the check loop
	runs   sync.WaitGroup // runs in progress

	mu      sync.Mutex      // guards running and started
	running map[string]bool // job types with a run in progress here
	started bool
}

// New returns a Scheduler of jobs, not yet started. Job types must be
// unique and at most 32 bytes, intervals positive.
func New(cfg Config, deps Deps, jobs ...Job) (*Scheduler, error) {
	switch {
	case deps.Store == nil:
		return nil, errors.New("jobs: Deps.Store is required")
	case cfg.CheckInterval <= 0 || cfg.HeartbeatInterval <= 0:
		return nil, errors.New("jobs: CheckInterval and HeartbeatInterval must be positive")
	case cfg.StaleAfter <= 2*cfg.HeartbeatInterval:
		return nil, errors.New("jobs: StaleAfter must exceed 2 × HeartbeatInterval")
	}
	seen := map[string]bool{}
	for _, j := range jobs {
		switch {
		case j.Type == "" || len(j.Type) > 32:
			return nil, fmt.Errorf("jobs: job type %q must be 1 to 32 bytes", j.Type)
		case seen[j.Type]:
			return nil, fmt.Errorf("jobs: job type %q given twice", j.Type)
		case j.Interval <= 0 || j.Run == nil:
			return nil, fmt.Errorf("jobs: job %q needs a positive Interval and a Run", j.Type)
		}
		seen[j.Type] = true
	}
	log := deps.Logger
	if log == nil {
		log = zap.NewNop()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Scheduler{
		cfg: cfg, deps: deps, jobs: jobs, log: log, now: time.Now,
		wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel, running: map[string]bool{},
	}, nil
}

// Start starts checking every CheckInterval (and at once).
func (s *Scheduler) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.ctx.Err() != nil {
		return
	}
	s.started = true
	s.loop.Add(1)
	go s.checkLoop()
	s.Wake()
}

// Wake makes the scheduler check now rather than at its next tick: call
// it when this node becomes the leader. It never blocks.
func (s *Scheduler) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Stop stops checking, cancels the runs in progress and waits, until ctx
// ends, for them to record their end (canceled). Calling it again returns
// nil.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.cancel()
	s.loop.Wait()
	done := make(chan struct{})
	go func() {
		s.runs.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("jobs: runs still ending: %w", ctx.Err())
	}
}

func (s *Scheduler) checkLoop() {
	defer s.loop.Done()
	t := time.NewTicker(s.cfg.CheckInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
		leads := s.deps.Leader == nil || s.deps.Leader.IsLeader()
		if !leads || !s.cfg.RunScheduler {
			continue
		}
		for _, j := range s.jobs {
			if s.ctx.Err() != nil {
				return
			}
			if err := s.check(s.ctx, j); err != nil && s.ctx.Err() == nil {
				s.log.Warn("Cannot schedule a job", zap.String("job_type", j.Type), zap.Error(err))
			}
		}
	}
}

// check moves job j along: it declares a stale run abandoned, claims a
// pending run, or creates the next run when the newest has ended and the
// interval has passed.
func (s *Scheduler) check(ctx context.Context, j Job) error {
	s.mu.Lock()
	busy := s.running[j.Type]
	s.mu.Unlock()
	if busy {
		return nil
	}
	now := s.now()
	latest, err := s.deps.Store.GetNewestOfType(ctx, j.Type)
	switch {
	case errors.Is(err, store.ErrNotFound):
		latest = nil
	case err != nil:
		return err
	}
	if latest != nil {
		switch latest.Status {
		case store.JobStatusPending:
			return s.claim(ctx, j, latest.ID)
		case store.JobStatusInProgress, store.JobStatusCancelRequested:
			if latest.LastActivityAt >= now.Add(-s.cfg.StaleAfter).UnixMilli() {
				return nil // running, here or on another node
			}
			return s.abandon(ctx, latest, now)
		}
		if now.UnixMilli() < latest.CreateAt+j.Interval.Milliseconds() {
			return nil // not due
		}
	}
	if j.Enabled != nil && !j.Enabled() {
		return nil
	}
	next := &store.Job{
		ID:       nextRunID(j.Type, latest),
		Type:     j.Type,
		CreateAt: now.UnixMilli(),
		Status:   store.JobStatusPending,
		Data:     map[string]string{"scheduled_by": s.cfg.NodeID},
	}
	if latest != nil && next.CreateAt <= latest.CreateAt {
		// Another node's clock ran ahead: keep the chain's CreateAt
		// increasing, so "newest" is always the chain's end.
		next.CreateAt = latest.CreateAt + 1
	}
	next.LastActivityAt = next.CreateAt
	var conflict *store.ConflictError
	if err := s.deps.Store.Save(ctx, next); err != nil && !errors.As(err, &conflict) {
		return err
	}
	// Whoever inserted it, it is pending now or already claimed.
	return s.claim(ctx, j, next.ID)
}

// abandon declares a run whose node stopped heartbeating failed.
func (s *Scheduler) abandon(ctx context.Context, run *store.Job, now time.Time) error {
	dead := *run
	dead.Status = store.JobStatusError
	dead.LastActivityAt = now.UnixMilli()
	dead.Data = maps.Clone(run.Data)
	if dead.Data == nil {
		dead.Data = map[string]string{}
	}
	dead.Data["error"] = fmt.Sprintf("abandoned: no heartbeat for %s (its node stopped or lost the database)", s.cfg.StaleAfter)
	ok, err := s.deps.Store.UpdateIfIdle(ctx, &dead, run.Status, now.Add(-s.cfg.StaleAfter).UnixMilli())
	if err != nil {
		return err
	}
	if ok {
		s.log.Warn("Declared a job run abandoned", zap.String("job_type", run.Type), zap.String("job_id", run.ID),
			zap.String("node_id", run.Data["node_id"]))
		s.Wake() // the next run may be due
	}
	return nil
}

// claim moves run id from pending to in progress and, if this node won,
// runs it on a goroutine of its own.
func (s *Scheduler) claim(ctx context.Context, j Job, id string) error {
	now := s.now()
	// Not cut short by Stop: a claim the database applied but whose
	// answer was lost would leave a run in progress that nobody runs.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	ok, err := s.deps.Store.UpdateStatusOptimistically(ctx, id, store.JobStatusPending, store.JobStatusInProgress, now.UnixMilli())
	if err != nil || !ok {
		return err
	}
	run := &store.Job{ID: id, Type: j.Type, StartAt: now.UnixMilli(), LastActivityAt: now.UnixMilli(),
		Status: store.JobStatusInProgress, Data: map[string]string{"node_id": s.cfg.NodeID}}
	s.mu.Lock()
	s.running[j.Type] = true
	s.mu.Unlock()
	s.runs.Add(1)
	go s.execute(j, run)
	return nil
}

// execute runs one claimed run, heartbeating it, and records its end.
//
// The run holds a lease: its context is canceled StaleAfter/2 after the
// last heartbeat the database took (a timer, so a starved heartbeat
// goroutine cannot delay it), while other nodes wait StaleAfter before
// declaring the run abandoned. The run therefore stops, if Run honours
// its context, before another node may start the next one.
func (s *Scheduler) execute(j Job, run *store.Job) {
	defer s.runs.Done()
	defer func() {
		s.mu.Lock()
		delete(s.running, j.Type)
		s.mu.Unlock()
		s.Wake() // a pending run may be waiting
	}()
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	var expired atomic.Bool
	lease := time.AfterFunc(time.Until(time.UnixMilli(run.LastActivityAt).Add(s.cfg.StaleAfter/2)), func() {
		expired.Store(true)
		cancel()
	})
	defer lease.Stop()
	// Record who runs it; this is also the first heartbeat. It is
	// written even while the node stops, so the run then ends canceled
	// rather than stays in progress until declared abandoned.
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	ok, err := s.deps.Store.UpdateOptimistically(wctx, run, store.JobStatusInProgress)
	wcancel()
	if err != nil || !ok {
		s.log.Warn("Lost a job run right after claiming it", zap.String("job_type", j.Type), zap.String("job_id", run.ID), zap.Error(err))
		return
	}
	s.log.Info("Job run started", zap.String("job_type", j.Type), zap.String("job_id", run.ID))

	hbDone := make(chan struct{})
	var lost bool // written by the heartbeat goroutine, read after hbDone
	go func() {
		defer close(hbDone)
		lost = s.heartbeat(ctx, cancel, lease, run)
	}()
	data, err := j.Run(ctx, cloneJob(run))
	cancel()
	<-hbDone

	end := cloneJob(run)
	end.LastActivityAt = s.now().UnixMilli()
	for k, v := range data {
		end.Data[k] = v
	}
	switch {
	case lost:
		s.log.Warn("Job run ended after losing its claim (declared abandoned elsewhere)", zap.String("job_type", j.Type), zap.String("job_id", run.ID))
		return
	case err != nil && s.ctx.Err() != nil:
		end.Status = store.JobStatusCanceled
		end.Data["error"] = "canceled: the node is stopping"
	case err != nil && expired.Load():
		end.Status = store.JobStatusError
		end.Data["error"] = fmt.Sprintf("canceled: no heartbeat reached the database for %s", s.cfg.StaleAfter/2)
	case err != nil:
		end.Status = store.JobStatusError
		end.Data["error"] = err.Error()
	default:
		end.Status, end.Progress = store.JobStatusSuccess, 100
	}
	// The end is recorded even while the node stops.
	wctx, wcancel = context.WithTimeout(context.WithoutCancel(s.ctx), writeTimeout)
	defer wcancel()
	ok, uerr := s.deps.Store.UpdateOptimistically(wctx, end, store.JobStatusInProgress)
	switch {
	case uerr != nil:
		s.log.Warn("Cannot record a job run's end", zap.String("job_type", j.Type), zap.String("job_id", run.ID), zap.Error(uerr))
	case !ok:
		s.log.Warn("Job run ended after being declared abandoned", zap.String("job_type", j.Type), zap.String("job_id", run.ID))
	default:
		s.log.Info("Job run ended", zap.String("job_type", j.Type), zap.String("job_id", run.ID),
			zap.String("status", end.Status), zap.Any("data", end.Data))
	}
}

// heartbeat refreshes run's LastActivityAt every HeartbeatInterval until
// ctx ends, extending the run's lease to StaleAfter/2 past each refresh
// the database took. It cancels the run and reports true when the run
// was taken from this node (declared abandoned).
func (s *Scheduler) heartbeat(ctx context.Context, cancel context.CancelFunc, lease *time.Timer, run *store.Job) (lost bool) {
	t := time.NewTicker(s.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
		beat := cloneJob(run)
		at := s.now() // before the write: the lease never outlasts the row's time
		beat.LastActivityAt = at.UnixMilli()
		ok, err := s.deps.Store.UpdateOptimistically(ctx, beat, store.JobStatusInProgress)
		switch {
		case err == nil && !ok:
			cancel()
			return true
		case err == nil:
			if !lease.Stop() {
				return false // expired meanwhile: the run is canceled
			}
			lease.Reset(time.Until(at.Add(s.cfg.StaleAfter / 2)))
		case ctx.Err() == nil:
			s.log.Warn("Cannot heartbeat a job run; it is canceled if this lasts", zap.String("job_id", run.ID),
				zap.Duration("lease", s.cfg.StaleAfter/2), zap.Error(err))
		}
	}
}

// writeTimeout bounds the status writes that are not cut short by Stop.
const writeTimeout = 10 * time.Second

// cloneJob copies j and its Data.
func cloneJob(j *store.Job) *store.Job {
	c := *j
	c.Data = maps.Clone(j.Data)
	if c.Data == nil {
		c.Data = map[string]string{}
	}
	return &c
}

// idEncoding is Mattermost's id alphabet.
var idEncoding = base32.NewEncoding("ybndrfg8ejkmcpqxot1uwisza345h769").WithPadding(base32.NoPadding)

// nextRunID is the id of the run after prev (nil: the first of its type):
// 128 bits of SHA-256 over the type and prev's id, in Mattermost's id
// format. Every scheduler derives the same id for the same successor, so
// the primary key lets only one of them create it.
func nextRunID(typ string, prev *store.Job) string {
	prevID := ""
	if prev != nil {
		prevID = prev.ID
	}
	sum := sha256.Sum256([]byte(typ + "\x00" + prevID))
	return idEncoding.EncodeToString(sum[:16])
}

// Filter selects jobs for [Scheduler.List], as GET /api/v4/jobs's query
// does: job_type and status ("" matches any), page (from 0) and per_page.
type Filter struct {
	Type    string
	Status  string
	Page    int
	PerPage int
}

// List returns one page of jobs, newest first. PerPage below 1 means 60,
// Mattermost's default, and above 200 means 200, its maximum; a negative
// Page means 0.
func (s *Scheduler) List(ctx context.Context, f Filter) ([]*store.Job, error) {
	per := f.PerPage
	switch {
	case per < 1:
		per = 60
	case per > 200:
		per = 200
	}
	page := max(f.Page, 0)
	jobs, err := s.deps.Store.GetAllPage(ctx, f.Type, f.Status, page*per, per)
	if err != nil {
		return nil, fmt.Errorf("jobs: listing: %w", err)
	}
	return jobs, nil
}
