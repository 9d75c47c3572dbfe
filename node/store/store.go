package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/seed331fb32b/chorus/node/config"
)

// Store is the node's database: the connection pools of the master, read
// replicas and search replicas (see the package doc on routing), and one
// accessor per aggregate. It is safe for concurrent use; [Store.Recycle]
// swaps its pools and [Store.Close] ends it.
type Store struct {
	dialect dialect
	logger  *zap.Logger

	// gen is the current generation of pools; nil once closed.
	gen atomic.Pointer[generation]
	// secrets holds every DSN password seen by Open and Recycle, scrubbed
	// from every error leaving the package. Replaced whole, never changed.
	secrets atomic.Pointer[[]string]

	mu       sync.Mutex     // serialises Recycle and Close; guards closed
	closed   bool           // Close has begun
	retiring sync.WaitGroup // old generations waiting for their queries to finish

	monitorCancel context.CancelFunc // stops the replica monitor
	monitorDone   chan struct{}      // closed when the monitor has returned

	system   *SystemStore
	users    *UserStore
	channels *ChannelStore
	posts    *PostStore
	sessions *SessionStore
	teams    *TeamStore
	statuses *StatusStore

	// migrated is what Open's migration run did and found; read by tests.
	migrated migrateResult
}

// Open connects to the databases of settings with the driver of
// settings.DriverName: the master (SqlSettings.DataSource), whose failure is
// an error, and the read and search replicas, which start offline when they
// do not answer and are probed every ReplicaMonitorIntervalSeconds. It
// applies the pool settings to each data source, brings the master's schema
// up to date under the migration lock, and refuses a schema too new for
// this node with a [*SchemaVersionError] (see the package doc). For SQLite,
// a DataSource is a file path whose parent directory is created.
//
// ctx bounds connecting and migrating, including the wait for another
// node's migration lock; cancelling it makes Open fail. Open does not retry
// an unreachable master. settings is not kept. logger receives replica
// state changes and, with SqlSettings.Trace, every statement; nil discards
// them. Errors name the setting at fault and never contain a DataSource
// password.
func Open(ctx context.Context, settings config.SqlSettings, logger *zap.Logger) (*Store, error) {
	if logger == nil {
		logger = zap.NewNop()
	}
	d, err := dialectFor(settings.DriverName)
	if err != nil {
		return nil, err
	}
	s := &Store{dialect: d, logger: logger}
	s.addSecrets(settingsSecrets(settings))
	g, res, err := s.openMigrated(ctx, settings)
	if err != nil {
		return nil, s.errorf("opening %s database: %w", d.name(), err)
	}
	s.migrated = res
	if res.node.less(res.database) {
		logger.Info("The database schema is one minor version newer than this node's; running on it, as migrations are additive",
			zap.Stringer("database_schema", res.database), zap.Stringer("node_schema", res.node))
	}
	s.gen.Store(g)
	s.system = &SystemStore{s: s}
	s.users = &UserStore{s: s}
	s.channels = &ChannelStore{s: s}
	s.posts = &PostStore{s: s}
	s.sessions = &SessionStore{s: s}
	s.teams = &TeamStore{s: s}
	s.statuses = &StatusStore{s: s}

	monitorCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.monitorCancel = cancel
	s.monitorDone = make(chan struct{})
	go s.monitor(monitorCtx)
	return s, nil
}

// openMigrated opens a generation of pools for settings and migrates its
// master; on failure it closes what it opened.
func (s *Store) openMigrated(ctx context.Context, settings config.SqlSettings) (*generation, migrateResult, error) {
	g, err := openGeneration(ctx, s.dialect, settings)
	if err != nil {
		return nil, migrateResult{}, err
	}
	if err := s.dialect.setup(ctx, g.master.db); err != nil {
		_ = g.close()
		return nil, migrateResult{}, err
	}
	res, err := migrate(ctx, g.master.db, s.dialect, time.Now)
	if err != nil {
		_ = g.close()
		return nil, res, err
	}
	for _, p := range g.pools()[1:] {
		if !p.online.Load() {
			s.logger.Warn("Database replica unreachable; it will be probed again every ReplicaMonitorIntervalSeconds",
				zap.String("data_source", p.setting))
		}
	}
	return g, res, nil
}

// System returns the accessor of the Systems table.
func (s *Store) System() *SystemStore { return s.system }

// Users returns the accessor of the Users table.
func (s *Store) Users() *UserStore { return s.users }

// Channels returns the accessor of the Channels table.
func (s *Store) Channels() *ChannelStore { return s.channels }

// Posts returns the accessor of the Posts table.
func (s *Store) Posts() *PostStore { return s.posts }

// Sessions returns the accessor of the Sessions table.
func (s *Store) Sessions() *SessionStore { return s.sessions }

// Teams returns the accessor of the Teams and TeamMembers tables.
func (s *Store) Teams() *TeamStore { return s.teams }

// Status returns the accessor of the Status table.
func (s *Store) Status() *StatusStore { return s.statuses }

// ClusterDiscovery returns the accessor of the ClusterDiscovery table.
func (s *Store) ClusterDiscovery() *ClusterDiscoveryStore { return &ClusterDiscoveryStore{s: s} }

// Jobs returns the accessor of the Jobs table.
func (s *Store) Jobs() *JobStore { return &JobStore{s: s} }

// DriverName returns the config.SqlSettings.DriverName the store was opened
// with.
func (s *Store) DriverName() string { return s.dialect.name() }

// Stats returns the state and counters of every data source of the current
// pools, master first, then the read replicas and the search replicas in
// settings order; nil after Close. A connection error is one that means the
// server is unreachable or closed the connection (refused, reset, shut
// down), as opposed to an error in the statement.
func (s *Store) Stats() []PoolStats {
	g, err := s.acquire()
	if err != nil {
		return nil
	}
	defer g.release()
	var out []PoolStats
	for _, p := range g.pools() {
		out = append(out, p.stats())
	}
	return out
}

// Close stops the replica monitor, waits for the statements in flight to
// finish (each is bounded by SqlSettings.QueryTimeout) and closes every
// connection. Calls after Close fail with [ErrClosed]; calling Close again
// returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	g := s.gen.Swap(nil)
	s.mu.Unlock()

	s.monitorCancel()
	<-s.monitorDone
	g.retire()
	<-g.drained
	err := g.close()
	s.retiring.Wait()
	if err != nil {
		return s.errorf("closing database: %w", err)
	}
	return nil
}

// acquire returns the current generation with a reference held, which the
// caller must release, or ErrClosed.
func (s *Store) acquire() (*generation, error) {
	for {
		g := s.gen.Load()
		if g == nil {
			return nil, ErrClosed
		}
		if g.acquire() {
			return g, nil
		}
		// g was retired after the Load; the pointer already holds its
		// successor (or nil), since retiring follows the swap.
	}
}

// errorf wraps an error the way every store error leaves the package: with
// %w and without any DSN password.
func (s *Store) errorf(format string, args ...any) error {
	return redact(fmt.Errorf(format, args...), s.currentSecrets())
}

// currentSecrets returns every DSN password the store has seen.
func (s *Store) currentSecrets() []string {
	if p := s.secrets.Load(); p != nil {
		return *p
	}
	return nil
}

// addSecrets adds passwords to the set scrubbed from errors. Called under
// mu, or before the store is shared.
func (s *Store) addSecrets(secrets []string) {
	merged := slices.Clone(s.currentSecrets())
	for _, sec := range secrets {
		if !slices.Contains(merged, sec) {
			merged = append(merged, sec)
		}
	}
	s.secrets.Store(&merged)
}

// settingsSecrets returns the passwords of every DSN in settings.
func settingsSecrets(settings config.SqlSettings) []string {
	out := dsnSecrets(settings.DataSource)
	for _, dsn := range settings.DataSourceReplicas {
		out = append(out, dsnSecrets(dsn)...)
	}
	for _, dsn := range settings.DataSourceSearchReplicas {
		out = append(out, dsnSecrets(dsn)...)
	}
	return out
}
