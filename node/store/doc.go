// Package store owns the app node's SQL: opening the master database for
// PostgreSQL, MySQL/MariaDB or SQLite ([Open]), the schema and its embedded
// migrations, and one accessor per aggregate ([Store.System]). Every method
// takes ctx first and bounds each query by SqlSettings.QueryTimeout.
//
// Dialect differences (drivers, DSNs, placeholders, upserts, the migration
// lock) live in dialect.go only. Errors are wrapped with %w; the one typed
// error is [ErrNotFound]. No error leaving this package contains the
// DataSource password.
//
// # Schema and migrations
//
// migrations/<driver>/NNNNNN_name.sql holds each dialect's numbered
// migrations; every dialect has the same numbers. A migration is a list of
// statements, each ending with ";" at the end of a line. Applied versions are
// recorded in the chorus_migrations table (Version, Name, AppliedAt in Unix
// milliseconds), which the runner creates itself; Chorus does not share
// Mattermost's db_migrations table. Migrations are written to be re-runnable
// (CREATE TABLE IF NOT EXISTS...), because MySQL commits DDL at once and a
// crash between a statement and its record must not wedge the next start.
//
// Open migrates under a lock so that nodes starting together apply each
// migration exactly once: pg_advisory_lock on PostgreSQL, GET_LOCK (named
// after the database) on MySQL, and on SQLite a BEGIN IMMEDIATE transaction
// around the whole run, which several node processes sharing one file on one
// host (WAL mode, busy timeout) serialise on.
//
// # Boundaries
//
// store knows SQL and nothing of HTTP or the app's rules: it must not import
// net/http, node/app or node/api. Its only Chorus import is node/config.
// Read replicas (DataSourceReplicas) and query tracing are not implemented
// yet; every query goes to the master.
package store
