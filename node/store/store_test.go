package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/seed331fb32b/chorus/node/config"
)

func TestOpenMigrates(t *testing.T) {
	for _, driver := range allDrivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			settings := testSettings(t, driver)
			migrations, err := loadMigrations(driver)
			if err != nil {
				t.Fatal(err)
			}

			first, err := Open(t.Context(), settings, zaptest.NewLogger(t))
			if err != nil {
				t.Fatalf("first Open: %v", err)
			}
			defer first.Close()
			if first.migrated.applied != len(migrations) {
				t.Errorf("first Open applied %d migrations, want %d", first.migrated.applied, len(migrations))
			}

			second, err := Open(t.Context(), settings, zaptest.NewLogger(t))
			if err != nil {
				t.Fatalf("second Open: %v", err)
			}
			defer second.Close()
			if second.migrated.applied != 0 {
				t.Errorf("reopening an up-to-date database applied %d migrations", second.migrated.applied)
			}
			if n := countRows(t, second, "chorus_migrations"); n != len(migrations) {
				t.Errorf("chorus_migrations has %d rows, want %d", n, len(migrations))
			}
		})
	}
}

// TestConcurrentOpenMigratesOnce starts five stores at once on one empty
// database, as five nodes starting together would.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	const nodes = 5
	for _, driver := range allDrivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			settings := testSettings(t, driver)
			if driver == config.DriverSQLite {
				// An existing, empty file: the state a fresh shared volume has.
				if err := os.MkdirAll(filepath.Dir(settings.DataSource), 0o750); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(settings.DataSource, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			migrations, err := loadMigrations(driver)
			if err != nil {
				t.Fatal(err)
			}

			start := make(chan struct{})
			stores := make([]*Store, nodes)
			errs := make([]error, nodes)
			var wg sync.WaitGroup
			for i := range nodes {
				wg.Go(func() {
					<-start
					stores[i], errs[i] = Open(t.Context(), settings, zaptest.NewLogger(t))
				})
			}
			close(start)
			wg.Wait()

			applied := 0
			for i := range nodes {
				if errs[i] != nil {
					t.Errorf("store %d: Open: %v", i, errs[i])
					continue
				}
				defer stores[i].Close()
				applied += stores[i].migrated.applied
			}
			if t.Failed() {
				return
			}
			if applied != len(migrations) {
				t.Errorf("stores applied %d migrations in total, want %d (each exactly once)", applied, len(migrations))
			}
			if n := countRows(t, stores[0], "chorus_migrations"); n != len(migrations) {
				t.Errorf("chorus_migrations has %d rows, want %d", n, len(migrations))
			}
			// Every store knows the recorded schema version, and it is this
			// binary's.
			node := latestSchema(migrations)
			for i, s := range stores {
				if s.migrated.database != node {
					t.Errorf("store %d found schema %s, want %s", i, s.migrated.database, node)
				}
			}
			if v, err := stores[0].System().Get(t.Context(), SchemaVersionKey); err != nil || v != node.String() {
				t.Errorf("recorded schema version = %q, %v; want %q", v, err, node)
			}
			// Every store works afterwards.
			for i, s := range stores {
				if err := s.System().SaveOrUpdate(t.Context(), "node", string(rune('a'+i))); err != nil {
					t.Errorf("store %d: SaveOrUpdate: %v", i, err)
				}
			}
		})
	}
}

func TestSQLiteConnectionSettings(t *testing.T) {
	settings := testSettings(t, config.DriverSQLite)
	s, err := Open(t.Context(), settings, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(filepath.Dir(settings.DataSource)); err != nil {
		t.Errorf("parent directory not created: %v", err)
	}
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
	}
	for _, tt := range tests {
		t.Run(tt.pragma, func(t *testing.T) {
			var got string
			if err := masterDB(t, s).QueryRowContext(t.Context(), "PRAGMA "+tt.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
			}
		})
	}
}

// TestQueryTimeout holds a lock on the row a query needs, from a second
// connection, and checks the query gives up after SqlSettings.QueryTimeout
// rather than waiting for the lock.
func TestQueryTimeout(t *testing.T) {
	for _, driver := range allDrivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			settings := testSettings(t, driver)
			settings.QueryTimeout = 1
			s, err := Open(t.Context(), settings, zaptest.NewLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.System().SaveOrUpdate(t.Context(), "locked", "v0"); err != nil {
				t.Fatal(err)
			}

			// Hold the write lock in a transaction on another connection of
			// the same pool (for SQLite, _txlock=immediate takes the file's
			// write lock at BEGIN).
			tx, err := masterDB(t, s).BeginTx(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(t.Context(), s.dialect.rebind("UPDATE Systems SET Value = ? WHERE Name = ?"), "v1", "locked"); err != nil {
				t.Fatal(err)
			}

			begin := time.Now()
			err = s.System().SaveOrUpdate(t.Context(), "locked", "v2")
			elapsed := time.Since(begin)
			if err == nil {
				t.Fatal("SaveOrUpdate succeeded while the row was locked")
			}
			if elapsed > 8*time.Second {
				t.Errorf("SaveOrUpdate gave up after %v, want about QueryTimeout (1s)", elapsed)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	const password = "s3cr3t-Pa55"
	tests := []struct {
		name     string
		settings config.SqlSettings
		want     string
	}{
		{
			name:     "unknown driver is named",
			settings: config.SqlSettings{DriverName: "oracle", DataSource: "x"},
			want:     `unknown SqlSettings.DriverName "oracle"`,
		},
		{
			name:     "empty data source",
			settings: config.SqlSettings{DriverName: config.DriverSQLite},
			want:     "DataSource is empty",
		},
		{
			name:     "unreachable postgres hides the password",
			settings: config.SqlSettings{DriverName: config.DriverPostgres, DataSource: "postgres://chorus:" + password + "@127.0.0.1:1/test?sslmode=disable&connect_timeout=5"},
			want:     "opening postgres database: connecting to the master (SqlSettings.DataSource)",
		},
		{
			name:     "postgres keyword DSN hides the password",
			settings: config.SqlSettings{DriverName: config.DriverPostgres, DataSource: "host=127.0.0.1 port=1 user=chorus password='" + password + "' dbname=test connect_timeout=5"},
			want:     "opening postgres database",
		},
		{
			name:     "malformed postgres URL hides the password",
			settings: config.SqlSettings{DriverName: config.DriverPostgres, DataSource: "postgres://chorus:" + password + "@127.0.0.1:notaport/test"},
			want:     "opening postgres database: parsing SqlSettings.DataSource",
		},
		{
			name:     "unreachable mysql hides the password",
			settings: config.SqlSettings{DriverName: config.DriverMySQL, DataSource: "chorus:" + password + "@tcp(127.0.0.1:1)/test?timeout=5s"},
			want:     "opening mysql database: connecting to the master (SqlSettings.DataSource)",
		},
		{
			name:     "malformed mysql DSN hides the password",
			settings: config.SqlSettings{DriverName: config.DriverMySQL, DataSource: "chorus:" + password + "@tcp(127.0.0.1:1)/test?parseTime=maybe"},
			want:     "opening mysql database: parsing SqlSettings.DataSource",
		},
		{
			name:     "sqlite directory that cannot be created",
			settings: config.SqlSettings{DriverName: config.DriverSQLite, DataSource: "/proc/chorus/x.db"},
			want:     "creating the database directory",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			s, err := Open(ctx, tt.settings, nil)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
}

func TestOpenHonoursCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := Open(ctx, testSettings(t, config.DriverSQLite), nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Open with a cancelled context: err = %v, want context.Canceled", err)
	}
}
