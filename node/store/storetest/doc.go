// Package storetest is the one node/store test suite: functions of
// (t, *store.Store) stating how each store accessor behaves, run unchanged
// against SQLite, PostgreSQL and MySQL/MariaDB by node/store's TestSuite
// (each function on a fresh database from [Open]).
//
// It is for tests only: no production package may import it. It imports
// node/store, node/config and node/store/internal/testdb, which finds the
// test database servers (CHORUS_TEST_POSTGRES, CHORUS_TEST_MYSQL; an
// unreachable server skips, or fails under CI=true). A new accessor adds
// its function to [All] here, never a per-driver test.
package storetest
