package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/seed331fb32b/chorus/node/config"
)

// Test databases. PostgreSQL and MariaDB come from the environment, with
// defaults for the local development machine; SQLite needs nothing.
const (
	defaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	defaultMySQLDSN    = "root@tcp(127.0.0.1:3306)/test?parseTime=true"
)

// allDrivers is every driver the suite runs against.
var allDrivers = []string{config.DriverSQLite, config.DriverPostgres, config.DriverMySQL}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// unavailable skips the test when a database server cannot be reached, or
// fails it under CI=true, where a missing database is a broken pipeline.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format+" (set CI=true to fail instead)", args...)
}

// testSettings returns SqlSettings for a fresh, empty database of driver,
// dropped when the test ends: a new file for SQLite, a new schema for
// PostgreSQL, a new database for MySQL. Tests can rerun and run in parallel.
func testSettings(t *testing.T, driver string) config.SqlSettings {
	t.Helper()
	settings := config.DefaultConfig().SqlSettings
	settings.DriverName = driver
	name := "chorus_test_" + randomHex(t)
	switch driver {
	case config.DriverSQLite:
		settings.DataSource = filepath.Join(t.TempDir(), "db", "chorus.db")
	case config.DriverPostgres:
		dsn := envOr("CHORUS_TEST_POSTGRES", defaultPostgresDSN)
		admin := adminDB(t, "pgx", dsn)
		mustExec(t, admin, "CREATE SCHEMA "+name)
		t.Cleanup(func() { mustExec(t, admin, "DROP SCHEMA "+name+" CASCADE") })
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("CHORUS_TEST_POSTGRES must be a URL: %v", err)
		}
		q := u.Query()
		q.Set("search_path", name) // pgx sends unknown parameters as run-time settings
		u.RawQuery = q.Encode()
		settings.DataSource = u.String()
	case config.DriverMySQL:
		dsn := envOr("CHORUS_TEST_MYSQL", defaultMySQLDSN)
		admin := adminDB(t, "mysql", dsn)
		mustExec(t, admin, "CREATE DATABASE "+name)
		t.Cleanup(func() { mustExec(t, admin, "DROP DATABASE "+name) })
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatalf("CHORUS_TEST_MYSQL: %v", err)
		}
		cfg.DBName = name
		settings.DataSource = cfg.FormatDSN()
	default:
		t.Fatalf("unknown driver %q", driver)
	}
	return settings
}

// adminDB connects to a test server to create and drop databases, or skips.
func adminDB(t *testing.T, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("sql.Open(%s): %v", driver, err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		unavailable(t, "%s test database unreachable: %v", driver, redact(err, dsnSecrets(dsn)))
	}
	return db
}

func mustExec(t *testing.T, db *sql.DB, query string) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func randomHex(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// openTest opens a store on a fresh database of driver, closed when the test
// ends.
func openTest(t *testing.T, driver string) *Store {
	t.Helper()
	s, err := Open(t.Context(), testSettings(t, driver))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// countRows returns SELECT COUNT(*) of a table through the store's pool.
func countRows(t *testing.T, s *Store, table string) int {
	t.Helper()
	var n int
	if err := s.db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatalf("counting %s: %v", table, err)
	}
	return n
}
