package store

import (
	"database/sql"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/seed331fb32b/chorus/node/config"
	"github.com/seed331fb32b/chorus/node/store/internal/testdb"
)

// allDrivers is every driver the tests run against.
var allDrivers = testdb.Drivers

// testSettings returns SqlSettings for a fresh, empty database of driver,
// dropped when the test ends (see package testdb).
func testSettings(t *testing.T, driver string) config.SqlSettings {
	t.Helper()
	return testdb.Settings(t, driver)
}

// openWith opens a store on settings, logging to the test, closed when the
// test ends.
func openWith(t *testing.T, settings config.SqlSettings) *Store {
	t.Helper()
	s, err := Open(t.Context(), settings, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openTest opens a store on a fresh database of driver, closed when the test
// ends.
func openTest(t *testing.T, driver string) *Store {
	t.Helper()
	return openWith(t, testSettings(t, driver))
}

// masterDB returns the master pool of the store's current generation, for
// tests that need to go around the store.
func masterDB(t *testing.T, s *Store) *sql.DB {
	t.Helper()
	g := s.gen.Load()
	if g == nil {
		t.Fatal("store is closed")
	}
	return g.master.db
}

// countRows returns SELECT COUNT(*) of a table on the master.
func countRows(t *testing.T, s *Store, table string) int {
	t.Helper()
	var n int
	if err := masterDB(t, s).QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatalf("counting %s: %v", table, err)
	}
	return n
}

// poolStats returns the stats of the pool of role and index, failing the
// test when there is none.
func poolStats(t *testing.T, s *Store, role Role, index int) PoolStats {
	t.Helper()
	for _, st := range s.Stats() {
		if st.Role == role && st.Index == index {
			return st
		}
	}
	t.Fatalf("no %s %d in %+v", role, index, s.Stats())
	return PoolStats{}
}

// contains is strings.Contains, for brevity in tables.
func contains(s, substr string) bool { return strings.Contains(s, substr) }

// waitFor polls cond until it holds, failing the test with what after a
// long-stop deadline. Tests wait on facts, never on sleeps.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		select {
		case <-tick.C:
		case <-t.Context().Done():
			t.Fatalf("test ended waiting for %s", what)
		}
	}
}
