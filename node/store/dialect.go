package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/seed331fb32b/chorus/node/config"
)

// This file holds every difference between PostgreSQL, MySQL/MariaDB and
// SQLite. The rest of the package writes portable SQL with "?" placeholders
// and asks the dialect for the few pieces that differ.

// dialect is one database family. Methods are called from any goroutine and
// keep no state.
type dialect interface {
	// name is the config.SqlSettings.DriverName, also the migrations directory.
	name() string
	// driver is the database/sql driver name.
	driver() string
	// dsn turns SqlSettings.DataSource into the driver's DSN, with the
	// options Chorus relies on, and prepares anything the DSN needs on disk.
	dsn(dataSource string) (string, error)
	// rebind rewrites "?" placeholders into the dialect's form. Queries must
	// not contain "?" inside string literals.
	rebind(query string) string
	// upsert returns the clause that follows INSERT ... VALUES (...) to update
	// updateCols when a row with the same key column already exists.
	upsert(keyCol string, updateCols ...string) string
	// lockMigrations blocks until this conn holds the database-wide migration
	// lock or ctx ends. unlock releases it; commit says whether the work done
	// under the lock succeeded (only SQLite, whose lock is a transaction,
	// uses it).
	lockMigrations(ctx context.Context, conn *sql.Conn) (unlock func(ctx context.Context, commit bool) error, err error)
	// txPerMigration says whether each migration runs in its own
	// transaction. MySQL commits DDL implicitly, and SQLite's whole run is
	// already one transaction.
	txPerMigration() bool
	// setup prepares a newly opened database before it is migrated.
	setup(ctx context.Context, db *sql.DB) error
}

// dialectFor returns the dialect of a config.SqlSettings.DriverName.
func dialectFor(driverName string) (dialect, error) {
	switch driverName {
	case config.DriverPostgres:
		return postgres{}, nil
	case config.DriverMySQL:
		return mysqlDialect{}, nil
	case config.DriverSQLite:
		return sqliteDialect{}, nil
	}
	return nil, fmt.Errorf("unknown SqlSettings.DriverName %q (want %q, %q or %q)",
		driverName, config.DriverSQLite, config.DriverPostgres, config.DriverMySQL)
}

// migrationLockWait bounds how long a node waits for another node's
// migration when ctx has no earlier deadline.
const migrationLockWait = 5 * time.Minute

// postgres is PostgreSQL through pgx's database/sql driver.
type postgres struct{}

// postgresMigrationLock is the pg_advisory_lock key of Chorus migrations: the
// bytes of "chorus" (advisory keys are per database, so installations in two
// schemas of one database only take turns).
const postgresMigrationLock int64 = 0x63686f727573

func (postgres) name() string   { return config.DriverPostgres }
func (postgres) driver() string { return "pgx" }

// dsn checks that dataSource parses (a URL or key=value DSN), so a
// malformed one fails at start naming its setting rather than at the first
// connection. pgx's own error hides the password.
func (postgres) dsn(dataSource string) (string, error) {
	if _, err := pgx.ParseConfig(dataSource); err != nil {
		return "", err
	}
	return dataSource, nil
}

func (postgres) rebind(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (postgres) upsert(keyCol string, updateCols ...string) string {
	sets := make([]string, len(updateCols))
	for i, c := range updateCols {
		sets[i] = c + " = EXCLUDED." + c
	}
	return "ON CONFLICT (" + keyCol + ") DO UPDATE SET " + strings.Join(sets, ", ")
}

func (postgres) lockMigrations(ctx context.Context, conn *sql.Conn) (func(context.Context, bool) error, error) {
	ctx, cancel := context.WithTimeout(ctx, migrationLockWait)
	defer cancel()
	// Session-level lock: it belongs to this connection, so lock and unlock
	// must use the same conn. Cancelling ctx makes pgx cancel the wait.
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", postgresMigrationLock); err != nil {
		return nil, fmt.Errorf("taking migration lock: %w", err)
	}
	return func(ctx context.Context, _ bool) error {
		_, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", postgresMigrationLock)
		return err
	}, nil
}

func (postgres) txPerMigration() bool { return true }

func (postgres) setup(context.Context, *sql.DB) error { return nil }

// mysqlDialect is MySQL or MariaDB through go-sql-driver/mysql.
type mysqlDialect struct{}

// mysqlLockName names the migration lock after the database, since GET_LOCK
// names are server-wide and one server may hold several Chorus databases.
// MySQL limits lock names to 64 characters.
const mysqlLockName = "LEFT(CONCAT('chorus_migrations.', DATABASE()), 64)"

func (mysqlDialect) name() string   { return config.DriverMySQL }
func (mysqlDialect) driver() string { return "mysql" }

func (mysqlDialect) dsn(dataSource string) (string, error) {
	cfg, err := mysql.ParseDSN(dataSource)
	if err != nil {
		return "", err
	}
	// Scan DATETIME/TIMESTAMP into time.Time, as Mattermost's DSNs do.
	cfg.ParseTime = true
	return cfg.FormatDSN(), nil
}

func (mysqlDialect) rebind(query string) string { return query }

func (mysqlDialect) upsert(_ string, updateCols ...string) string {
	// VALUES(col) is deprecated in MySQL 8.0.20 but is what MariaDB
	// understands; both accept it.
	sets := make([]string, len(updateCols))
	for i, c := range updateCols {
		sets[i] = c + " = VALUES(" + c + ")"
	}
	return "ON DUPLICATE KEY UPDATE " + strings.Join(sets, ", ")
}

func (mysqlDialect) lockMigrations(ctx context.Context, conn *sql.Conn) (func(context.Context, bool) error, error) {
	wait := migrationLockWait
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
		wait = time.Until(deadline)
	}
	if wait <= 0 {
		// GET_LOCK takes a negative timeout as "wait forever".
		return nil, fmt.Errorf("taking migration lock: %w", context.DeadlineExceeded)
	}
	var got sql.NullInt64
	err := conn.QueryRowContext(ctx, "SELECT GET_LOCK("+mysqlLockName+", ?)", wait.Seconds()).Scan(&got)
	switch {
	case err != nil:
		return nil, fmt.Errorf("taking migration lock: %w", err)
	case !got.Valid || got.Int64 != 1:
		return nil, fmt.Errorf("taking migration lock: not granted within %s", wait.Round(time.Second))
	}
	return func(ctx context.Context, _ bool) error {
		_, err := conn.ExecContext(ctx, "SELECT RELEASE_LOCK("+mysqlLockName+")")
		return err
	}, nil
}

func (mysqlDialect) txPerMigration() bool { return false }

func (mysqlDialect) setup(context.Context, *sql.DB) error { return nil }

// sqliteDialect is SQLite through modernc.org/sqlite (pure Go, no cgo).
type sqliteDialect struct{}

// sqliteBusyTimeout is how long a connection waits for another connection,
// or another node process, holding the write lock before failing with
// SQLITE_BUSY.
const sqliteBusyTimeout = 10 * time.Second

func (sqliteDialect) name() string   { return config.DriverSQLite }
func (sqliteDialect) driver() string { return "sqlite" }

// dsn treats dataSource as a file path (optionally with modernc query
// parameters after "?") and adds, for every connection:
//   - a busy timeout, so a connection waits for another connection or
//     process holding the write lock;
//   - foreign keys on, which SQLite leaves off by default;
//   - _txlock=immediate: transactions take the write lock at BEGIN, so a
//     transaction that reads then writes cannot fail with SQLITE_BUSY when it
//     upgrades after another process wrote;
//   - _synchronous=NORMAL: in WAL mode a commit is written to the WAL but
//     not synced; the WAL is synced at each checkpoint. The database stays
//     consistent after a crash or power loss, which may only lose the last
//     commits, and writes cost no fsync each (SQLite's recommended setting
//     for WAL; FULL made every post a disk flush).
//
// WAL mode is not in the DSN: see [sqliteDialect.setup].
func (sqliteDialect) dsn(dataSource string) (string, error) {
	path, query, _ := strings.Cut(dataSource, "?")
	file := strings.TrimPrefix(path, "file:")
	if file != "" && file != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(file), 0o750); err != nil {
			return "", fmt.Errorf("creating the database directory: %w", err)
		}
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("parsing the data source parameters: %w", err)
	}
	params.Set("_busy_timeout", strconv.FormatInt(sqliteBusyTimeout.Milliseconds(), 10))
	params.Set("_foreign_keys", "1")
	params.Set("_txlock", "immediate")
	params.Set("_synchronous", "NORMAL")
	return path + "?" + params.Encode(), nil
}

func (sqliteDialect) rebind(query string) string { return query }

func (sqliteDialect) upsert(keyCol string, updateCols ...string) string {
	return postgres{}.upsert(keyCol, updateCols...) // SQLite 3.24+ took PostgreSQL's syntax
}

func (sqliteDialect) lockMigrations(ctx context.Context, conn *sql.Conn) (func(context.Context, bool) error, error) {
	// BEGIN IMMEDIATE takes the file's write lock, which every other
	// connection and process must wait for; the busy timeout bounds one
	// attempt, so keep trying while another node runs a long migration.
	lockCtx, cancel := context.WithTimeout(ctx, migrationLockWait)
	defer cancel()
	err := retryBusy(lockCtx, func() error {
		_, err := conn.ExecContext(lockCtx, "BEGIN IMMEDIATE")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("taking migration lock: %w", err)
	}
	return func(ctx context.Context, commit bool) error {
		if commit {
			_, err := conn.ExecContext(ctx, "COMMIT")
			return err
		}
		_, err := conn.ExecContext(ctx, "ROLLBACK")
		return err
	}, nil
}

func (sqliteDialect) txPerMigration() bool { return false }

// setup switches the file to WAL journal mode, in which readers do not block
// the writer and processes on one host share the file safely (not on a
// network file system). The mode is stored in the file, so it is set once
// here rather than by every new connection.
//
// Converting a new file needs an exclusive lock. When several processes open
// one new file at once, a connection holding a shared lock while waiting for
// the exclusive one gets SQLITE_BUSY at once, without the busy timeout,
// because SQLite refuses to wait where two such waiters would deadlock
// (sqlite3_busy_handler docs). So retry here; in WAL mode later connections
// need no such upgrade. Seen as "database is locked" in
// TestConcurrentOpenAcrossProcesses before this retry existed.
func (sqliteDialect) setup(ctx context.Context, db *sql.DB) error {
	ctx, cancel := context.WithTimeout(ctx, sqliteBusyTimeout)
	defer cancel()
	var mode string
	err := retryBusy(ctx, func() error {
		return db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode)
	})
	switch {
	case err != nil:
		return fmt.Errorf("setting WAL journal mode: %w", err)
	case strings.EqualFold(mode, "wal"), strings.EqualFold(mode, "memory"):
		return nil // an in-memory database has no file to share
	}
	return fmt.Errorf("setting WAL journal mode: the database stays in %q mode", mode)
}

// retryBusy calls fn until it returns something other than SQLITE_BUSY, with
// a short growing pause between calls, or until ctx ends (returning fn's
// last error).
func retryBusy(ctx context.Context, fn func() error) error {
	backoff := time.Millisecond
	for {
		err := fn()
		if err == nil || !isSQLiteBusy(err) {
			return err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		backoff = min(2*backoff, 100*time.Millisecond)
	}
}

// isSQLiteBusy reports whether err is SQLITE_BUSY or SQLITE_LOCKED, in any
// extended form.
func isSQLiteBusy(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	code := e.Code() & 0xff
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}
