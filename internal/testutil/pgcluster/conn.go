package pgcluster

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Every helper here connects, runs one statement and disconnects. A fresh
// connection each time keeps nothing between calls, so a restarted server
// needs no reconnect logic. ctx bounds the whole call.

// queryRow scans the one row that query returns into dest.
func queryRow(ctx context.Context, dsn, query string, args []any, dest ...any) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, query, args...).Scan(dest...); err != nil {
		return fmt.Errorf("querying %q: %w", query, err)
	}
	return nil
}

// execSQL runs statement and discards its result.
func execSQL(ctx context.Context, dsn, statement string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, statement); err != nil {
		return fmt.Errorf("running %q: %w", statement, err)
	}
	return nil
}
