package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed331fb32b/chorus/node/config"
)

// Role is the part a data source plays in routing.
type Role string

// The roles of SqlSettings' data sources.
const (
	// RoleMaster is SqlSettings.DataSource: every write, and the reads that
	// must see a write just made.
	RoleMaster Role = "master"
	// RoleReplica is one of SqlSettings.DataSourceReplicas: ordinary reads.
	RoleReplica Role = "replica"
	// RoleSearchReplica is one of SqlSettings.DataSourceSearchReplicas:
	// search reads.
	RoleSearchReplica Role = "search_replica"
)

// PoolStats describes one data source of the store's current connection
// pools, as [Store.Stats] returns it. Counters start at zero when the pools
// are made, by [Open] or [Store.Recycle].
type PoolStats struct {
	// Role is the data source's role.
	Role Role
	// Index is the data source's position in its settings list
	// (DataSourceReplicas or DataSourceSearchReplicas); 0 for the master.
	Index int
	// Online is false while a replica is out of rotation after a
	// connection error, until a monitor probe reaches it again. The master
	// is always online.
	Online bool
	// Queries counts statements and transactions started on the data
	// source, failed ones included.
	Queries int64
	// ConnErrors counts the statements that failed with a connection error
	// (see [Store.Stats]).
	ConnErrors int64
	// Probes counts the monitor's attempts to reach the replica while it
	// was offline, one per ReplicaMonitorIntervalSeconds.
	Probes int64
	// DB is the data source's database/sql pool statistics.
	DB sql.DBStats
}

// pool is one data source: its *sql.DB, whether it is in rotation, and its
// counters. The counters and online flag are atomics read on every query;
// mu serialises only the rare online/offline transitions.
type pool struct {
	role    Role
	index   int
	setting string // the setting naming it, e.g. "SqlSettings.DataSourceReplicas[1]"; logs never show the DSN
	db      *sql.DB
	maxIdle int  // SqlSettings.MaxIdleConns, restored when the pool comes back online
	trace   bool // SqlSettings.Trace: log every statement

	mu     sync.Mutex // guards transitions of online together with db's idle limit
	online atomic.Bool

	queries  atomic.Int64
	connErrs atomic.Int64
	probes   atomic.Int64
}

// setOffline takes p out of rotation and drops its idle connections, which
// are likely dead too. It reports whether p was online.
func (p *pool) setOffline() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.online.Load() {
		return false
	}
	p.db.SetMaxIdleConns(0)
	p.online.Store(false)
	return true
}

// setOnline puts p back in rotation. It reports whether p was offline.
func (p *pool) setOnline() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.online.Load() {
		return false
	}
	p.db.SetMaxIdleConns(p.maxIdle)
	p.online.Store(true)
	return true
}

func (p *pool) stats() PoolStats {
	return PoolStats{
		Role:       p.role,
		Index:      p.index,
		Online:     p.online.Load(),
		Queries:    p.queries.Load(),
		ConnErrors: p.connErrs.Load(),
		Probes:     p.probes.Load(),
		DB:         p.db.Stats(),
	}
}

// generation is one set of connection pools built from one SqlSettings:
// the master, the read replicas and the search replicas, with the settings
// that govern queries on them. The store holds the current generation
// behind an atomic pointer; [Store.Recycle] swaps in a new one whole.
//
// Every statement holds a reference to the generation it runs on, from
// before it picks a pool until it has read its last row, so a retired
// generation is closed only once nothing uses it. Closing the *sql.DB alone
// would not do: database/sql fails a query that took the old pool but had
// not yet started on it.
type generation struct {
	master   *pool
	replicas []*pool
	search   []*pool

	queryTimeout    time.Duration // zero: bounded by the caller's ctx only
	monitorInterval time.Duration // between probes of offline replicas

	rr atomic.Uint64 // round-robin counter over replicas (Mattermost's rrCounter)
	sr atomic.Uint64 // round-robin counter over search replicas (srCounter)

	// refs counts the statements holding the generation, plus retiredBit
	// once it is retired. The holder that brings it to exactly retiredBit
	// (or retire itself, when nothing holds it) closes drained.
	refs      atomic.Int64
	drained   chan struct{}
	drainOnce sync.Once
}

// retiredBit marks a retired generation in generation.refs; far above any
// number of concurrent statements.
const retiredBit int64 = 1 << 40

// acquire takes a reference, or reports false when g is retired.
func (g *generation) acquire() bool {
	if g.refs.Add(1)&retiredBit != 0 {
		g.release()
		return false
	}
	return true
}

// release drops a reference taken by acquire.
func (g *generation) release() {
	if g.refs.Add(-1) == retiredBit {
		g.drainOnce.Do(func() { close(g.drained) })
	}
}

// retire stops g taking new references; drained closes once the last
// holder releases.
func (g *generation) retire() {
	if g.refs.Add(retiredBit) == retiredBit {
		g.drainOnce.Do(func() { close(g.drained) })
	}
}

// pools returns every pool of g, master first.
func (g *generation) pools() []*pool {
	out := make([]*pool, 0, 1+len(g.replicas)+len(g.search))
	out = append(out, g.master)
	out = append(out, g.replicas...)
	return append(out, g.search...)
}

// close closes every pool's *sql.DB.
func (g *generation) close() error {
	var errs []error
	for _, p := range g.pools() {
		if err := p.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing %s: %w", p.setting, err))
		}
	}
	return errors.Join(errs...)
}

// queryContext derives the context one statement runs under: ctx bounded
// by SqlSettings.QueryTimeout, as Mattermost's sqlxDBWrapper does.
func (g *generation) queryContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if g.queryTimeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, g.queryTimeout)
}

// probeTimeout bounds one attempt to reach a replica, at start and from
// the monitor: an unreachable host must not hold up Open or the monitor
// for a whole QueryTimeout.
func (g *generation) probeTimeout() time.Duration {
	const most = 5 * time.Second
	if g.queryTimeout > 0 && g.queryTimeout < most {
		return g.queryTimeout
	}
	return most
}

// defaultMonitorInterval replaces a ReplicaMonitorIntervalSeconds of zero
// or less: Mattermost's default.
const defaultMonitorInterval = 5 * time.Second

// openGeneration opens a pool per data source of settings with d's driver
// and checks that the master answers. A replica that does not answer
// starts offline, for the monitor to bring back, as in Mattermost; the
// master's failure is an error. Errors name the setting, and may hold a
// DSN password: the caller redacts them.
func openGeneration(ctx context.Context, d dialect, settings config.SqlSettings) (*generation, error) {
	g := &generation{
		queryTimeout:    max(time.Duration(settings.QueryTimeout)*time.Second, 0),
		monitorInterval: time.Duration(settings.ReplicaMonitorIntervalSeconds) * time.Second,
		drained:         make(chan struct{}),
	}
	if g.monitorInterval <= 0 {
		g.monitorInterval = defaultMonitorInterval
	}
	var err error
	defer func() {
		if err != nil {
			_ = g.closeOpened()
		}
	}()
	if g.master, err = openPool(d, settings, RoleMaster, 0, "SqlSettings.DataSource", settings.DataSource); err != nil {
		return nil, err
	}
	for i, dsn := range settings.DataSourceReplicas {
		p, perr := openPool(d, settings, RoleReplica, i, fmt.Sprintf("SqlSettings.DataSourceReplicas[%d]", i), dsn)
		if err = perr; err != nil {
			return nil, err
		}
		g.replicas = append(g.replicas, p)
	}
	for i, dsn := range settings.DataSourceSearchReplicas {
		p, perr := openPool(d, settings, RoleSearchReplica, i, fmt.Sprintf("SqlSettings.DataSourceSearchReplicas[%d]", i), dsn)
		if err = perr; err != nil {
			return nil, err
		}
		g.search = append(g.search, p)
	}

	pingCtx, cancel := g.queryContext(ctx)
	err = g.master.db.PingContext(pingCtx)
	cancel()
	if err != nil {
		err = fmt.Errorf("connecting to the master (SqlSettings.DataSource): %w", err)
		return nil, err
	}
	// Probe the replicas together, so several unreachable ones cost one
	// probe timeout, not one each.
	var wg sync.WaitGroup
	for _, p := range g.pools()[1:] {
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, g.probeTimeout())
			defer cancel()
			if p.db.PingContext(pctx) == nil {
				p.setOnline()
			}
		})
	}
	wg.Wait()
	if err = ctx.Err(); err != nil {
		return nil, err
	}
	return g, nil
}

// closeOpened closes the pools openGeneration made before it failed.
func (g *generation) closeOpened() error {
	var errs []error
	for _, p := range g.pools() {
		if p != nil {
			errs = append(errs, p.db.Close())
		}
	}
	return errors.Join(errs...)
}

// openPool opens one data source's *sql.DB with the pool settings. The pool
// starts offline, except the master, which is always online. Nothing
// connects yet.
func openPool(d dialect, settings config.SqlSettings, role Role, index int, setting, dataSource string) (*pool, error) {
	if dataSource == "" {
		return nil, fmt.Errorf("%s is empty", setting)
	}
	dsn, err := d.dsn(dataSource)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", setting, err)
	}
	db, err := sql.Open(d.driver(), dsn)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", setting, err)
	}
	db.SetMaxOpenConns(max(settings.MaxOpenConns, 0))
	db.SetConnMaxLifetime(max(time.Duration(settings.ConnMaxLifetimeMilliseconds)*time.Millisecond, 0))
	db.SetConnMaxIdleTime(max(time.Duration(settings.ConnMaxIdleTimeMilliseconds)*time.Millisecond, 0))
	p := &pool{role: role, index: index, setting: setting, db: db, maxIdle: max(settings.MaxIdleConns, 0), trace: settings.Trace}
	if role == RoleMaster {
		db.SetMaxIdleConns(p.maxIdle)
		p.online.Store(true)
	} else {
		db.SetMaxIdleConns(0) // setOnline restores it
	}
	return p, nil
}
