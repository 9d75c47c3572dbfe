package store

import (
	"context"
	"database/sql"
	"errors"
)

// SystemStore reads and writes Mattermost's Systems table: server-wide
// values by name (Name varchar(64), Value text). Every call goes to the
// master and is bounded by SqlSettings.QueryTimeout; it is safe for
// concurrent use.
type SystemStore struct {
	s *Store
}

// SaveOrUpdate sets the value of name, inserting the row if it is missing,
// in one statement, so concurrent callers on any node never collide. name
// must be at most 64 bytes (SQLite does not enforce it).
func (ss *SystemStore) SaveOrUpdate(ctx context.Context, name, value string) error {
	s := ss.s
	ctx, cancel := s.queryContext(ctx)
	defer cancel()
	query := s.dialect.rebind("INSERT INTO Systems (Name, Value) VALUES (?, ?) " + s.dialect.upsert("Name", "Value"))
	if _, err := s.db.ExecContext(ctx, query, name, value); err != nil {
		return s.errorf("saving system %q: %w", name, err)
	}
	return nil
}

// Get returns the value of name, or an error wrapping [ErrNotFound] when
// there is no such row.
func (ss *SystemStore) Get(ctx context.Context, name string) (string, error) {
	s := ss.s
	ctx, cancel := s.queryContext(ctx)
	defer cancel()
	var value sql.NullString
	err := s.db.QueryRowContext(ctx, s.dialect.rebind("SELECT Value FROM Systems WHERE Name = ?"), name).Scan(&value)
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
	ctx, cancel := s.queryContext(ctx)
	defer cancel()
	if _, err := s.db.ExecContext(ctx, s.dialect.rebind("DELETE FROM Systems WHERE Name = ?"), name); err != nil {
		return s.errorf("deleting system %q: %w", name, err)
	}
	return nil
}
