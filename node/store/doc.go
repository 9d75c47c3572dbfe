// Package store owns the app node's SQL: the connection pools of the master
// database, its read replicas and search replicas on PostgreSQL,
// MySQL/MariaDB or SQLite ([Open]), the routing of every statement among
// them, their health, their replacement without a restart
// ([Store.Recycle]), the schema and its embedded migrations, and one
// accessor per aggregate ([Store.System], [Store.Users], [Store.Sessions],
// [Store.Teams], [Store.Channels], [Store.Posts], [Store.Status]). Every
// method takes ctx first.
//
// # Routing
//
// Writes and transactions go to the master (SqlSettings.DataSource). So do
// reads in a context made by [WithMaster], for reads that must see a write
// just made (Mattermost's RequestContextWithMaster), reads of Systems and
// Sessions, and [UserStore.Count].
// Other reads round-robin over the read replicas that are online
// (DataSourceReplicas); search reads over the online search replicas
// (DataSourceSearchReplicas), else the read replicas; with none online,
// the master. A replica is taken out of rotation when a statement on it
// fails with a connection error (refused, reset, server shut down), and
// the read is retried once on the master, so the caller never sees a
// replica's death; a monitor probes offline replicas every
// ReplicaMonitorIntervalSeconds and puts back those that answer. A replica
// that hangs without closing its connections is not detected: its reads
// fail after QueryTimeout, as in Mattermost. [Store.Stats] shows each data
// source's state and counters.
//
// Every statement goes through one helper (query.go) that picks the pool,
// bounds the statement by SqlSettings.QueryTimeout (a transaction as a
// whole), logs it when SqlSettings.Trace is on, and holds the generation of
// pools it took until it has read its last row. [Store.Recycle] swaps in a
// new generation whole and closes the old one only when its last statement
// ends, so recycling fails no statement.
//
// # Schema and migrations
//
// migrations/<driver>/NNNNNN_name.sql holds each dialect's numbered
// migrations; every dialect has the same numbers. A file's first line names
// the schema version it belongs to ("-- schema 1.1", see [SchemaVersion]);
// the rest is a list of statements, each ending with ";" at the end of a
// line. Applied migrations are recorded in chorus_migrations (Version, Name,
// AppliedAt in Unix milliseconds), which the runner creates itself; Chorus
// does not share Mattermost's db_migrations table. The database's schema
// version is the Systems row [SchemaVersionKey]. Migrations are written to
// be re-runnable (CREATE TABLE IF NOT EXISTS..., MySQL indexes inside the
// CREATE TABLE), because MySQL commits DDL at once and a crash between a
// statement and its record must not wedge the next start.
//
// Open migrates under a lock so that nodes starting together apply each
// migration exactly once: pg_advisory_lock on PostgreSQL, GET_LOCK (named
// after the database) on MySQL, and on SQLite a BEGIN IMMEDIATE transaction
// around the whole run, which several node processes sharing one file on
// one host (WAL mode, busy timeout) serialise on. The others wait, then
// find nothing to do and verify the version. A start that finds everything
// applied takes no lock.
//
// Migrations are additive, so that nodes one schema minor version behind
// keep working during a rolling upgrade: a migration may add tables,
// columns (nullable or with a default) and indexes, never drop, rename or
// retype anything an older node reads or writes, nor add a constraint its
// writes would break. Removing something takes two releases: stop using it,
// then drop it a minor version later. A node refuses a schema more than one
// minor version ahead of its own, or of another major version, with a
// [*SchemaVersionError].
//
// # Errors
//
// Errors are wrapped with %w. Typed errors: [ErrNotFound], [ErrClosed],
// [*ConflictError] (a uniqueness rule), [*InvalidError] (a row missing what
// the store needs), [*SchemaVersionError]. No error leaving this package
// contains a DataSource password.
//
// # Boundaries
//
// Dialect differences (drivers, DSNs, placeholders, upserts, the migration
// lock) live in dialect.go, and the drivers' error codes in classify.go.
// store knows SQL and nothing of HTTP or the app's rules: it must not
// import net/http, node/app or node/api. Its only Chorus import is
// node/config. Its one suite of behaviour tests is node/store/storetest.
package store
