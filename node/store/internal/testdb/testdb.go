package testdb

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
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/seed331fb32b/chorus/node/config"
)

// Test database servers. PostgreSQL and MariaDB come from the environment,
// with defaults for the local development machine; SQLite needs nothing.
const (
	// PostgresEnv names the variable holding the PostgreSQL test server's
	// URL (a database the test may create schemas in).
	PostgresEnv = "CHORUS_TEST_POSTGRES"
	// MySQLEnv names the variable holding the MySQL/MariaDB test server's
	// DSN (a user that may create databases).
	MySQLEnv = "CHORUS_TEST_MYSQL"

	defaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	defaultMySQLDSN    = "root@tcp(127.0.0.1:3306)/test?parseTime=true"
)

// Drivers is every driver the store suite runs against.
var Drivers = []string{config.DriverSQLite, config.DriverPostgres, config.DriverMySQL}

// PostgresDSN returns the PostgreSQL test server's URL.
func PostgresDSN() string { return envOr(PostgresEnv, defaultPostgresDSN) }

// MySQLDSN returns the MySQL/MariaDB test server's DSN.
func MySQLDSN() string { return envOr(MySQLEnv, defaultMySQLDSN) }

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Unavailable skips the test when a database server cannot be reached, or
// fails it under CI=true, where a missing database is a broken pipeline.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format+" (set CI=true to fail instead)", args...)
}

// Settings returns the default SqlSettings pointed at a fresh, empty
// database of driver, dropped when the test ends: a new file for SQLite, a
// new schema for PostgreSQL, a new database for MySQL.
func Settings(t testing.TB, driver string) config.SqlSettings {
	t.Helper()
	settings := config.DefaultConfig().SqlSettings
	settings.DriverName = driver
	settings.DataSource = DataSource(t, driver)
	return settings
}

// DataSource creates a fresh, empty database of driver, dropped when the
// test ends, and returns its SqlSettings.DataSource.
func DataSource(t testing.TB, driver string) string {
	t.Helper()
	name := "chorus_test_" + randomHex(t)
	switch driver {
	case config.DriverSQLite:
		return filepath.Join(t.TempDir(), "db", "chorus.db")
	case config.DriverPostgres:
		dsn := PostgresDSN()
		admin := adminDB(t, "pgx", dsn)
		mustExec(t, admin, "CREATE SCHEMA "+name)
		t.Cleanup(func() { mustExec(t, admin, "DROP SCHEMA "+name+" CASCADE") })
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("%s must be a URL: %v", PostgresEnv, err)
		}
		q := u.Query()
		q.Set("search_path", name) // pgx sends unknown parameters as run-time settings
		u.RawQuery = q.Encode()
		return u.String()
	case config.DriverMySQL:
		dsn := MySQLDSN()
		admin := adminDB(t, "mysql", dsn)
		mustExec(t, admin, "CREATE DATABASE "+name)
		t.Cleanup(func() { mustExec(t, admin, "DROP DATABASE "+name) })
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatalf("%s: %v", MySQLEnv, err)
		}
		cfg.DBName = name
		return cfg.FormatDSN()
	}
	t.Fatalf("unknown driver %q", driver)
	return ""
}

// adminDB connects to a test server to create and drop databases, or skips.
// The error is shown without the DSN, which may hold a password.
func adminDB(t testing.TB, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("sql.Open(%s): %v", driver, err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		Unavailable(t, "%s test database unreachable: %v", driver, err)
	}
	return db
}

func mustExec(t testing.TB, db *sql.DB, query string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func randomHex(t testing.TB) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
