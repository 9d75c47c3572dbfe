// Package testdb gives tests of node/store fresh, empty databases on the
// three drivers: a new SQLite file, a new PostgreSQL schema or a new MySQL
// database per call, dropped when the test ends, so tests can rerun and run
// in parallel against shared servers.
//
// PostgreSQL and MariaDB are found through CHORUS_TEST_POSTGRES and
// CHORUS_TEST_MYSQL, with defaults for the development machine. An
// unreachable server skips the test, or fails it under CI=true. testdb
// imports node/config and the drivers, never node/store, so the store's own
// tests and node/store/storetest can both use it.
package testdb
