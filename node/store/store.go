package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/seed331fb32b/chorus/node/config"
)

// Store is the node's connection to its master database. It is safe for
// concurrent use; [Store.Close] ends it.
type Store struct {
	db           *sql.DB
	dialect      dialect
	queryTimeout time.Duration // zero: queries are bounded by the caller's ctx only
	secrets      []string      // DSN passwords to scrub from errors
	system       *SystemStore

	// applied is how many migrations this Open applied (zero when another
	// node or an earlier start had applied them); read by tests.
	applied int
}

// Open connects to the master database of settings with the driver of
// settings.DriverName, applies the pool settings, checks the connection and
// brings the schema up to date (see the package doc on migrations). For
// SQLite, DataSource is a file path whose parent directory is created.
//
// ctx bounds connecting and migrating, including the wait for another node's
// migration lock; cancelling it makes Open fail. Open does not retry an
// unreachable database. settings is not kept. Errors never contain the
// DataSource password.
func Open(ctx context.Context, settings config.SqlSettings) (*Store, error) {
	d, err := dialectFor(settings.DriverName)
	if err != nil {
		return nil, err
	}
	secrets := dsnSecrets(settings.DataSource)
	s, err := open(ctx, d, settings, secrets)
	if err != nil {
		return nil, redact(fmt.Errorf("opening %s database: %w", d.name(), err), secrets)
	}
	return s, nil
}

func open(ctx context.Context, d dialect, settings config.SqlSettings, secrets []string) (*Store, error) {
	if settings.DataSource == "" {
		return nil, fmt.Errorf("SqlSettings.DataSource is empty")
	}
	dsn, err := d.dsn(settings.DataSource)
	if err != nil {
		return nil, fmt.Errorf("parsing SqlSettings.DataSource: %w", err)
	}
	db, err := sql.Open(d.driver(), dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxIdleConns(settings.MaxIdleConns)
	db.SetMaxOpenConns(max(settings.MaxOpenConns, 0))
	db.SetConnMaxLifetime(max(time.Duration(settings.ConnMaxLifetimeMilliseconds)*time.Millisecond, 0))
	db.SetConnMaxIdleTime(max(time.Duration(settings.ConnMaxIdleTimeMilliseconds)*time.Millisecond, 0))

	s := &Store{
		db:           db,
		dialect:      d,
		queryTimeout: max(time.Duration(settings.QueryTimeout)*time.Second, 0),
		secrets:      secrets,
	}
	s.system = &SystemStore{s: s}

	pingCtx, cancel := s.queryContext(ctx)
	err = db.PingContext(pingCtx)
	cancel()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting: %w", err)
	}
	if err := d.setup(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	s.applied, err = migrate(ctx, db, d, time.Now)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// System returns the accessor of the Systems table.
func (s *Store) System() *SystemStore { return s.system }

// DriverName returns the config.SqlSettings.DriverName the store was opened
// with.
func (s *Store) DriverName() string { return s.dialect.name() }

// Close closes every connection. Queries after Close fail; calling Close
// again returns nil.
func (s *Store) Close() error {
	return s.db.Close()
}

// queryContext derives the context one query runs under: ctx bounded by
// SqlSettings.QueryTimeout, as Mattermost's sqlxDBWrapper does. It is the one
// place query timing is decided.
func (s *Store) queryContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.queryTimeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, s.queryTimeout)
}

// errorf wraps an error the way every store error leaves the package: with
// %w and without the DSN password.
func (s *Store) errorf(format string, args ...any) error {
	return redact(fmt.Errorf(format, args...), s.secrets)
}
