// Package pgcluster starts a real PostgreSQL primary and a streaming read
// replica for tests, from the server binaries installed on the machine.
//
// It owns the two server processes, their data directories under the system
// temporary directory, and their TCP ports on 127.0.0.1; [Start] hands them to
// one test and stops and deletes them in the test's Cleanup. The entry type is
// [Cluster]: its DSNs connect with trust authentication as the superuser
// "postgres", and its methods stop and start the replica and pause, resume and
// wait for WAL replay, so a test can make the replica lag or disappear on cue.
//
// The binaries are found in $CHORUS_PG_BIN, else in the newest
// /usr/lib/postgresql/<version>/bin (Debian's layout), else through $PATH.
// When they are missing [Start] skips the test, but fails it when CI=true, so a
// broken CI image cannot pass by skipping. initdb and postgres refuse to run as
// root, so when the test runs as root the servers run as the "postgres" system
// user, which then owns the temporary directories.
//
// pgcluster is for tests only: no production package may import it. It
// imports only the standard library and pgx, and touches nothing outside its
// own temporary directories, the processes it started and the ports it chose;
// each server's Unix socket lives in its own directory, so the system
// PostgreSQL on port 5432 and /var/run/postgresql are never involved.
package pgcluster
