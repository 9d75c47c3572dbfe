package pgcluster

import (
	"context"
	"fmt"
	"testing"
)

// PauseReplay pauses WAL replay on the replica (pg_wal_replay_pause) and
// returns once it has taken effect: the replica keeps receiving WAL but
// shows no change committed on the primary from now on, until
// [Cluster.ResumeReplay] or [Cluster.StartReplica]. It fails t if the
// replica is stopped or does not pause within 30 s.
func (c *Cluster) PauseReplay(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	dsn := c.replica.dsn()
	if err := execSQL(ctx, dsn, "SELECT pg_wal_replay_pause()"); err != nil {
		t.Fatalf("pgcluster: pausing replay on the replica: %v", err)
	}
	c.paused = true
	var version int
	if err := queryRow(ctx, dsn, "SELECT current_setting('server_version_num')::int", nil, &version); err != nil {
		t.Fatalf("pgcluster: reading the replica's version: %v", err)
	}
	// Before PostgreSQL 14 a pause request takes effect before the next
	// record is replayed, with nothing to wait for. From 14 the startup
	// process confirms it, between records or while waiting for WAL, and
	// only "paused" promises that nothing more is replayed.
	if version < 140000 {
		return
	}
	err := poll(ctx, func(ctx context.Context) error {
		var state string
		if err := queryRow(ctx, dsn, "SELECT pg_get_wal_replay_pause_state()", nil, &state); err != nil {
			return err
		}
		if state != "paused" {
			return fmt.Errorf("pg_get_wal_replay_pause_state() = %q", state)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("pgcluster: waiting for replay to pause: %v", err)
	}
}

// ResumeReplay resumes WAL replay on the replica (pg_wal_replay_resume);
// it then applies what it received meanwhile, which [Cluster.WaitReplicated]
// waits for. Resuming unpaused replay does nothing. It fails t if the
// replica is stopped.
func (c *Cluster) ResumeReplay(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	if err := execSQL(ctx, c.replica.dsn(), "SELECT pg_wal_replay_resume()"); err != nil {
		t.Fatalf("pgcluster: resuming replay on the replica: %v", err)
	}
	c.paused = false
}

// WaitReplicated returns once the replica has replayed all WAL the primary
// had written when it was called (its pg_last_wal_replay_lsn() reaches the
// primary's pg_current_wal_lsn()), so every transaction committed on the
// primary before the call is visible on the replica. It fails t at once
// while replay is paused, and with both positions if the replica has not
// caught up within 30 s.
func (c *Cluster) WaitReplicated(t testing.TB) {
	t.Helper()
	if c.paused {
		t.Fatal("pgcluster: WaitReplicated: replay is paused; call ResumeReplay first")
	}
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	var target string
	if err := queryRow(ctx, c.primary.dsn(), "SELECT pg_current_wal_lsn()::text", nil, &target); err != nil {
		t.Fatalf("pgcluster: reading the primary's WAL position: %v", err)
	}
	err := poll(ctx, func(ctx context.Context) error {
		var (
			done               bool
			received, replayed string
		)
		// Both functions return NULL on a server not in recovery.
		err := queryRow(ctx, c.replica.dsn(), `SELECT
			coalesce(pg_last_wal_replay_lsn() >= $1::text::pg_lsn, false),
			coalesce(pg_last_wal_receive_lsn()::text, 'none'),
			coalesce(pg_last_wal_replay_lsn()::text, 'none')`,
			[]any{target}, &done, &received, &replayed)
		if err != nil {
			return err
		}
		if !done {
			return fmt.Errorf("primary wrote up to %s, replica received %s and replayed %s", target, received, replayed)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("pgcluster: waiting for the replica to replay up to %s: %v", target, err)
	}
}
