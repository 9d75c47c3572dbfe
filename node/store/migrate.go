package store

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrationFiles embed.FS

// migration is one numbered schema change of one dialect.
type migration struct {
	version    int64
	name       string   // file name without the .sql extension
	statements []string // without the terminating ";"
}

// migrationsTable records applied migrations. Its DDL is portable across the
// three dialects and is run by the runner itself, before the numbered files.
const migrationsTable = `CREATE TABLE IF NOT EXISTS chorus_migrations (
    Version bigint NOT NULL,
    Name varchar(255) NOT NULL,
    AppliedAt bigint NOT NULL,
    PRIMARY KEY (Version)
)`

// statementEnd is a ";" that ends a line (or the file): the statement
// separator of migration files.
var statementEnd = regexp.MustCompile(`;[ \t]*(?:\r?\n|$)`)

// loadMigrations returns the migrations of a dialect in version order.
func loadMigrations(dir string) ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, path.Join("migrations", dir))
	if err != nil {
		return nil, fmt.Errorf("listing migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		name := strings.TrimSuffix(e.Name(), ".sql")
		num, _, _ := strings.Cut(name, "_")
		version, err := strconv.ParseInt(num, 10, 64)
		if err != nil || version <= 0 {
			return nil, fmt.Errorf("migration %s/%s: name must start with a positive number", dir, e.Name())
		}
		data, err := migrationFiles.ReadFile(path.Join("migrations", dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading migration %s/%s: %w", dir, e.Name(), err)
		}
		out = append(out, migration{version: version, name: name, statements: splitStatements(string(data))})
	}
	slices.SortFunc(out, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share version %d", out[i-1].name, out[i].name, out[i].version)
		}
	}
	return out, nil
}

// splitStatements splits a migration file into statements, dropping "--"
// comment lines and empty statements.
func splitStatements(sqlText string) []string {
	var lines []string
	for line := range strings.Lines(sqlText) {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		lines = append(lines, line)
	}
	var out []string
	for _, stmt := range statementEnd.Split(strings.Join(lines, ""), -1) {
		if stmt = strings.TrimSpace(stmt); stmt != "" {
			out = append(out, stmt)
		}
	}
	return out
}

// migrate applies the dialect's pending migrations under the dialect's
// migration lock and returns how many it applied. Nodes starting together
// queue on the lock; the first applies everything, the others find nothing
// left. Cancelling ctx abandons the wait or the migration in progress (on
// MySQL, DDL already executed stays).
func migrate(ctx context.Context, db *sql.DB, d dialect, now func() time.Time) (applied int, err error) {
	migrations, err := loadMigrations(d.name())
	if err != nil {
		return 0, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("getting a connection: %w", err)
	}
	defer conn.Close()

	unlock, err := d.lockMigrations(ctx, conn)
	if err != nil {
		return 0, err
	}
	defer func() {
		// Release even when ctx is cancelled: a session lock left behind
		// would make every other node wait for it.
		releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if uerr := unlock(releaseCtx, err == nil); uerr != nil {
			// Drop the connection so the server frees its session lock.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			if err == nil {
				err = fmt.Errorf("releasing migration lock: %w", uerr)
			}
		}
	}()

	if _, err := conn.ExecContext(ctx, migrationsTable); err != nil {
		return 0, fmt.Errorf("creating chorus_migrations: %w", err)
	}
	done, err := appliedVersions(ctx, conn)
	if err != nil {
		return 0, err
	}
	for _, m := range migrations {
		if done[m.version] {
			continue
		}
		if err := apply(ctx, conn, d, m, now()); err != nil {
			return applied, fmt.Errorf("applying migration %s/%s: %w", d.name(), m.name, err)
		}
		applied++
	}
	return applied, nil
}

// appliedVersions reads the recorded migration versions.
func appliedVersions(ctx context.Context, conn *sql.Conn) (map[int64]bool, error) {
	rows, err := conn.QueryContext(ctx, "SELECT Version FROM chorus_migrations")
	if err != nil {
		return nil, fmt.Errorf("reading chorus_migrations: %w", err)
	}
	defer rows.Close()
	done := make(map[int64]bool)
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("reading chorus_migrations: %w", err)
		}
		done[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading chorus_migrations: %w", err)
	}
	return done, nil
}

// execer is what apply needs from a *sql.Conn or *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// apply runs one migration's statements and records it, in one transaction
// where the dialect has transactional DDL.
func apply(ctx context.Context, conn *sql.Conn, d dialect, m migration, at time.Time) error {
	if !d.txPerMigration() {
		return run(ctx, conn, d, m, at)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	if err := run(ctx, tx, d, m, at); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// run executes m's statements and its chorus_migrations record on ex.
func run(ctx context.Context, ex execer, d dialect, m migration, at time.Time) error {
	for i, stmt := range m.statements {
		if _, err := ex.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("statement %d: %w", i+1, err)
		}
	}
	insert := d.rebind("INSERT INTO chorus_migrations (Version, Name, AppliedAt) VALUES (?, ?, ?)")
	if _, err := ex.ExecContext(ctx, insert, m.version, m.name, at.UnixMilli()); err != nil {
		return fmt.Errorf("recording version: %w", err)
	}
	return nil
}

// ignoreDone drops sql.ErrTxDone, which Rollback returns after a failed
// Commit already ended the transaction.
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}
