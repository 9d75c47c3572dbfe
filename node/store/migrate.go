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
	name       string        // file name without the .sql extension
	schema     SchemaVersion // the schema version it belongs to (its header)
	statements []string      // without the terminating ";"
}

// schemaHeader is the first line of every migration file: the schema
// version the migration belongs to.
var schemaHeader = regexp.MustCompile(`^-- schema (\d+\.\d+)\r?\n`)

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

// loadMigrations returns the embedded migrations of a dialect in version
// order.
func loadMigrations(dir string) ([]migration, error) {
	return readMigrations(migrationFiles, dir)
}

// readMigrations returns the migrations under migrations/dir of fsys in
// version order, checking their names and schema headers.
func readMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, path.Join("migrations", dir))
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
		data, err := fs.ReadFile(fsys, path.Join("migrations", dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading migration %s/%s: %w", dir, e.Name(), err)
		}
		header := schemaHeader.FindSubmatch(data)
		if header == nil {
			return nil, fmt.Errorf("migration %s/%s: first line must be \"-- schema MAJOR.MINOR\"", dir, e.Name())
		}
		schema, err := parseSchemaVersion(string(header[1]))
		if err != nil {
			return nil, fmt.Errorf("migration %s/%s: %w", dir, e.Name(), err)
		}
		out = append(out, migration{version: version, name: name, schema: schema, statements: splitStatements(string(data))})
	}
	slices.SortFunc(out, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s share version %d", out[i-1].name, out[i].name, out[i].version)
		}
		if out[i].schema.less(out[i-1].schema) {
			return nil, fmt.Errorf("migration %s (schema %s) follows %s (schema %s): schema versions must not go back",
				out[i].name, out[i].schema, out[i-1].name, out[i-1].schema)
		}
	}
	return out, nil
}

// latestSchema is the schema version of the last migration: the newest
// version a node with these migrations knows.
func latestSchema(migrations []migration) SchemaVersion {
	if len(migrations) == 0 {
		return SchemaVersion{}
	}
	return migrations[len(migrations)-1].schema
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

// migrateResult is what one run of migrate did and found.
type migrateResult struct {
	// applied is how many migrations this run applied.
	applied int
	// node is the newest schema version this binary knows.
	node SchemaVersion
	// database is the schema version the database records after the run.
	database SchemaVersion
}

// migrate applies the dialect's pending migrations under the dialect's
// migration lock and records the schema version. Nodes starting together
// queue on the lock; the first applies everything, the others find nothing
// left and verify the version. Cancelling ctx abandons the wait or the
// migration in progress (on MySQL, DDL already executed stays).
//
// Before applying anything it compares the schema version the database
// records with the newest this binary knows, and fails with a
// [*SchemaVersionError] when the database is too new (see
// [SchemaVersion]). A database one minor version ahead is used as it is:
// its newer node applied every migration this one has. The recorded version
// never goes down.
func migrate(ctx context.Context, db *sql.DB, d dialect, now func() time.Time) (res migrateResult, err error) {
	migrations, err := loadMigrations(d.name())
	if err != nil {
		return res, err
	}
	res.node = latestSchema(migrations)
	if done, ok := upToDate(ctx, db, d, migrations); ok {
		return done, nil
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return res, fmt.Errorf("getting a connection: %w", err)
	}
	defer conn.Close()

	unlock, err := d.lockMigrations(ctx, conn)
	if err != nil {
		return res, err
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
		return res, fmt.Errorf("creating chorus_migrations: %w", err)
	}
	done, err := appliedVersions(ctx, conn)
	if err != nil {
		return res, err
	}
	recorded, found, err := recordedSchema(ctx, conn, d, done)
	if err != nil {
		return res, err
	}
	if found {
		if err := checkSchema(recorded, res.node); err != nil {
			return res, err
		}
	}
	for _, m := range migrations {
		if done[m.version] {
			continue
		}
		if err := apply(ctx, conn, d, m, now()); err != nil {
			return res, fmt.Errorf("applying migration %s/%s: %w", d.name(), m.name, err)
		}
		res.applied++
	}

	res.database = res.node
	if found && res.node.less(recorded) {
		res.database = recorded
	}
	if !found || recorded != res.database {
		upsert := d.rebind("INSERT INTO Systems (Name, Value) VALUES (?, ?) " + d.upsert("Name", "Value"))
		if _, err := conn.ExecContext(ctx, upsert, SchemaVersionKey, res.database.String()); err != nil {
			return res, fmt.Errorf("recording schema version %s: %w", res.database, err)
		}
	}
	return res, nil
}

// upToDate reports, without the migration lock, whether every migration is
// already applied and the schema version recorded, the state of every
// start but the first: such a start need not queue behind other nodes for
// the lock (on SQLite, the file's write lock). A recorded version that is
// too new, or older than this node's, answers false: the locked path
// reports or raises it. So does any error, such as a missing table on a
// new database. Migrations only ever add, so a node migrating further at
// the same moment changes nothing this answer relies on.
func upToDate(ctx context.Context, db *sql.DB, d dialect, migrations []migration) (res migrateResult, ok bool) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return res, false
	}
	defer conn.Close()
	done, err := appliedVersions(ctx, conn)
	if err != nil {
		return res, false
	}
	for _, m := range migrations {
		if !done[m.version] {
			return res, false
		}
	}
	recorded, found, err := recordedSchema(ctx, conn, d, done)
	if err != nil || !found {
		return res, false
	}
	res.node = latestSchema(migrations)
	if recorded.less(res.node) || checkSchema(recorded, res.node) != nil {
		return res, false
	}
	res.database = recorded
	return res, true
}

// systemsMigration is the version of the migration creating Systems, where
// the schema version is recorded.
const systemsMigration = 1

// recordedSchema reads the schema version the database records, reporting
// found false on a database without Systems or without the row (a new
// database, or one made before versions were recorded).
func recordedSchema(ctx context.Context, conn *sql.Conn, d dialect, done map[int64]bool) (v SchemaVersion, found bool, err error) {
	if !done[systemsMigration] {
		return v, false, nil
	}
	var value string
	err = conn.QueryRowContext(ctx, d.rebind("SELECT Value FROM Systems WHERE Name = ?"), SchemaVersionKey).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return v, false, nil
	}
	if err != nil {
		return v, false, fmt.Errorf("reading the schema version: %w", err)
	}
	v, err = parseSchemaVersion(value)
	if err != nil {
		return v, false, fmt.Errorf("reading the schema version from Systems.%s: %w", SchemaVersionKey, err)
	}
	return v, true, nil
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
