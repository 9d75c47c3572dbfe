package pgcluster_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/seed331fb32b/chorus/internal/testutil/pgcluster"
)

// stepTimeout bounds each step's own queries and waits.
const stepTimeout = 30 * time.Second

// TestCluster drives one cluster through the life a replica test needs.
// Each step builds on the rows of the last, so the first failure ends it.
func TestCluster(t *testing.T) {
	c := pgcluster.Start(t)
	primary := open(t, c.PrimaryDSN())

	steps := []struct {
		name string
		run  func(t *testing.T, ctx context.Context)
	}{
		{"row written on the primary is read on the replica", func(t *testing.T, ctx context.Context) {
			mustExec(t, ctx, primary, "CREATE TABLE items (id int PRIMARY KEY)")
			mustExec(t, ctx, primary, "INSERT INTO items VALUES (1)")
			c.WaitReplicated(t)
			wantIDs(t, ctx, open(t, c.ReplicaDSN()), 1)
		}},
		{"write on the replica fails as read-only", func(t *testing.T, ctx context.Context) {
			_, err := open(t, c.ReplicaDSN()).ExecContext(ctx, "INSERT INTO items VALUES (99)")
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "25006" { // read_only_sql_transaction
				t.Fatalf("insert on the replica: got error %v, want SQLSTATE 25006", err)
			}
		}},
		{"stopped replica refuses connections", func(t *testing.T, ctx context.Context) {
			c.StopReplica(t)
			err := open(t, c.ReplicaDSN()).PingContext(ctx)
			var connErr *pgconn.ConnectError
			if !errors.As(err, &connErr) {
				t.Fatalf("ping the stopped replica: got error %v, want a *pgconn.ConnectError", err)
			}
		}},
		{"restarted replica serves rows written while it was down", func(t *testing.T, ctx context.Context) {
			mustExec(t, ctx, primary, "INSERT INTO items VALUES (2)")
			c.StartReplica(t)
			c.WaitReplicated(t)
			wantIDs(t, ctx, open(t, c.ReplicaDSN()), 1, 2)
		}},
		{"paused replica receives the row but does not show it", func(t *testing.T, ctx context.Context) {
			c.PauseReplay(t)
			mustExec(t, ctx, primary, "INSERT INTO items VALUES (3)")
			// Proof by facts rather than by waiting a while: the WAL with row 3
			// has reached the replica, which still shows only rows 1 and 2.
			waitReceived(t, ctx, primary, open(t, c.ReplicaDSN()))
			wantIDs(t, ctx, open(t, c.ReplicaDSN()), 1, 2)
		}},
		{"resumed replica shows the row", func(t *testing.T, ctx context.Context) {
			c.ResumeReplay(t)
			c.WaitReplicated(t)
			wantIDs(t, ctx, open(t, c.ReplicaDSN()), 1, 2, 3)
		}},
	}
	for _, s := range steps {
		ok := t.Run(s.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), stepTimeout)
			defer cancel()
			s.run(t, ctx)
		})
		if !ok {
			t.FailNow()
		}
	}
}

// open returns a database/sql handle on dsn, closed in t's Cleanup. A new
// handle per step holds no connection from before a replica restart.
func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("opening %s: %v", dsn, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t *testing.T, ctx context.Context, db *sql.DB, statement string) {
	t.Helper()
	if _, err := db.ExecContext(ctx, statement); err != nil {
		t.Fatalf("%s: %v", statement, err)
	}
}

// wantIDs fails t unless the ids in items are exactly want, ascending.
func wantIDs(t *testing.T, ctx context.Context, db *sql.DB, want ...int) {
	t.Helper()
	rows, err := db.QueryContext(ctx, "SELECT id FROM items ORDER BY id")
	if err != nil {
		t.Fatalf("selecting items: %v", err)
	}
	defer rows.Close()
	var got []int
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatalf("scanning items: %v", err)
		}
		got = append(got, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("selecting items: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("items ids = %v, want %v", got, want)
	}
}

// waitReceived polls, until ctx ends, for the replica to have received and
// flushed all WAL the primary has written, whether or not it replayed it.
func waitReceived(t *testing.T, ctx context.Context, primary, replica *sql.DB) {
	t.Helper()
	var target string
	if err := primary.QueryRowContext(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&target); err != nil {
		t.Fatalf("reading the primary's WAL position: %v", err)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		var received string
		var done bool
		err := replica.QueryRowContext(ctx, `SELECT
			coalesce(pg_last_wal_receive_lsn() >= $1::text::pg_lsn, false),
			coalesce(pg_last_wal_receive_lsn()::text, 'none')`, target).Scan(&done, &received)
		if err == nil && done {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for the replica to receive WAL up to %s: %v", target, errors.Join(ctx.Err(), err,
				fmt.Errorf("received up to %s", received)))
		case <-tick.C:
		}
	}
}
