package store

import (
	"context"
	"database/sql"
	"errors"
)

// SystemStore reads and writes Mattermost's Systems table: server-wide
// values by name (Name varchar(64), Value text). Every call goes to the
// master, replicas or not: these values (health checks, the schema version,
// cluster-wide settings) must never be stale. It is safe for concurrent
// use.
type SystemStore struct {
	s *Store
}

// SaveOrUpdate sets the value of name, inserting the row if it is missing,
// in one statement, so concurrent callers on any node never collide. name
// must be at most 64 bytes (SQLite does not enforce it).
func (ss *SystemStore) SaveOrUpdate(ctx context.Context, name, value string) error {
	s := ss.s
	query := "INSERT INTO Systems (Name, Value) VALUES (?, ?) " + s.dialect.upsert("Name", "Value")
	if _, err := s.exec(ctx, query, name, value); err != nil {
		return s.errorf("saving system %q: %w", name, err)
	}
	return nil
}

// Get returns the value of name, or an error wrapping [ErrNotFound] when
// there is no such row.
func (ss *SystemStore) Get(ctx context.Context, name string) (string, error) {
	s := ss.s
	var value sql.NullString
	err := s.queryRow(ctx, toMaster, "SELECT Value FROM Systems WHERE Name = ?", []any{name}, &value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", s.errorf("getting system %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return "", s.errorf("getting system %q: %w", name, err)
	}
	return value.String, nil
}

// PermanentDeleteByName deletes the row of name. Deleting a missing row is
// not an error, as in Mattermost.
func (ss *SystemStore) PermanentDeleteByName(ctx context.Context, name string) error {
	s := ss.s
	if _, err := s.exec(ctx, "DELETE FROM Systems WHERE Name = ?", name); err != nil {
		return s.errorf("deleting system %q: %w", name, err)
	}
	return nil
}
