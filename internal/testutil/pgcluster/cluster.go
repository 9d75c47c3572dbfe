package pgcluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// ciEnv names the environment variable that, when true, turns a missing
// PostgreSQL from a skipped test into a failed one.
const ciEnv = "CI"

// Cluster is a running PostgreSQL primary and one streaming replica, owned
// by the test given to [Start]. Both accept trust-authenticated connections
// from 127.0.0.1 as the superuser "postgres". Its methods take the test to
// fail it, so call them from the test's goroutine, one at a time.
type Cluster struct {
	dir     string // temporary root holding both servers' directories; removed in Cleanup
	primary *server
	replica *server

	// paused is true between PauseReplay and ResumeReplay or a replica
	// restart, so WaitReplicated can fail at once instead of timing out.
	paused bool
}

// Start starts a primary and one streaming replica of it (pg_basebackup -R
// with a replication slot, hot_standby on), each on a free TCP port of
// 127.0.0.1 with its data in a new temporary directory, and returns once the
// replica accepts read-only connections. t's Cleanup stops both (the replica
// first) and deletes their data; when t has failed it first logs the tail of
// both server logs.
//
// Without the server binaries (see the package doc), or when the test runs
// as root and there is no postgres user, Start skips t, but fails it when
// the environment has CI=true. Any other problem fails t, quoting the tool's
// output or the server log.
func Start(t testing.TB) *Cluster {
	t.Helper()
	bin, err := defaultBinDir()
	if err != nil {
		skipIfMissing(t, err, errNoBinaries)
	}
	acct, err := currentAccount()
	if err != nil {
		skipIfMissing(t, err, errNoServerUser)
	}

	root, err := os.MkdirTemp("", "pgcluster-")
	if err != nil {
		t.Fatalf("pgcluster: creating the cluster directory: %v", err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(root); err != nil {
			t.Errorf("pgcluster: removing %s: %v", root, err)
		}
	})
	if err := acct.own(root); err != nil {
		t.Fatalf("pgcluster: %v", err)
	}

	tl := tools{bin: bin, acct: acct}
	c := &Cluster{
		dir:     root,
		primary: &server{name: "primary", dir: filepath.Join(root, "primary"), tools: tl},
		replica: &server{name: "replica", dir: filepath.Join(root, "replica"), tools: tl},
	}
	// Registered after the RemoveAll above, so it runs before it.
	t.Cleanup(func() { c.close(t) })

	if err := c.setUp(t.Context()); err != nil {
		t.Fatalf("pgcluster: %v", err)
	}
	return c
}

// skipIfMissing skips t when err is the prerequisite missing, unless CI is
// true, and fails it for any other err.
func skipIfMissing(t testing.TB, err, missing error) {
	t.Helper()
	if !errors.Is(err, missing) {
		t.Fatalf("pgcluster: %v", err)
	}
	if ci, _ := strconv.ParseBool(os.Getenv(ciEnv)); ci {
		t.Fatalf("%v (%s=true: a missing PostgreSQL fails the test instead of skipping it)", err, ciEnv)
	}
	t.Skipf("%v; skipping (set %s=true to fail instead)", err, ciEnv)
}

// close stops both servers, replica first, for t's Cleanup. It runs after
// t.Context() is cancelled, so it waits on a context of its own.
func (c *Cluster) close(t testing.TB) {
	t.Helper()
	if t.Failed() {
		for _, s := range []*server{c.primary, c.replica} {
			t.Logf("pgcluster: %s", s.logTail())
		}
	}
	for _, s := range []*server{c.replica, c.primary} {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		if err := s.stop(ctx); err != nil {
			t.Errorf("pgcluster: stopping %s: %v", s.name, err)
		}
		cancel()
	}
}

// PrimaryDSN returns the primary's connection URL,
// postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable, which pgx and
// its database/sql driver accept. It is fixed for the cluster's life.
func (c *Cluster) PrimaryDSN() string { return c.primary.dsn() }

// ReplicaDSN returns the replica's connection URL, of the same form as
// [Cluster.PrimaryDSN]. Its port stays the same across
// [Cluster.StopReplica] and [Cluster.StartReplica]; while the replica is
// stopped, connecting to it fails.
func (c *Cluster) ReplicaDSN() string { return c.replica.dsn() }

// StopReplica shuts the replica down fast (open transactions are rolled
// back) and returns once the process has exited and its port refuses
// connections. The primary keeps the WAL the replica has not received yet,
// in its replication slot. It fails t if the replica is not running or does
// not stop within 30 s.
func (c *Cluster) StopReplica(t testing.TB) {
	t.Helper()
	if c.replica.proc == nil {
		t.Fatal("pgcluster: StopReplica: the replica is not running")
	}
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	if err := c.replica.stop(ctx); err != nil {
		t.Fatalf("pgcluster: stopping the replica: %v", err)
	}
}

// StartReplica starts the stopped replica again, on the same port and data
// directory, and returns once it accepts connections and is in recovery; it
// then streams from the primary what it missed. A restart resumes replay
// paused by [Cluster.PauseReplay]. It fails t if the replica is running or
// is not ready within 30 s.
func (c *Cluster) StartReplica(t testing.TB) {
	t.Helper()
	if c.replica.proc != nil {
		t.Fatal("pgcluster: StartReplica: the replica is already running")
	}
	if err := c.replica.start(t.Context(), true); err != nil {
		t.Fatalf("pgcluster: %v", err)
	}
	c.paused = false
}
