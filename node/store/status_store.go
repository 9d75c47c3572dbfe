package store

import (
	"context"
	"database/sql"
	"errors"
)

// Status is one row of Mattermost's Status table: a user's presence.
// Times are Unix milliseconds, except DNDEndTime, in seconds as in
// Mattermost.
type Status struct {
	UserID         string
	Status         string // "online", "away", "dnd" or "offline"
	Manual         bool   // set by the user, not by activity
	LastActivityAt int64
	DNDEndTime     int64 // Unix seconds; 0 for none
	PrevStatus     string
}

// statusColumns lists the Status columns in the order of [Status.fields].
const statusColumns = "UserId, Status, Manual, LastActivityAt, DNDEndTime, PrevStatus"

// fields returns pointers to st's fields in statusColumns order.
func (st *Status) fields() []any {
	return []any{&st.UserID, &st.Status, &st.Manual, &st.LastActivityAt, &st.DNDEndTime, &st.PrevStatus}
}

// StatusStore reads and writes the Status table. Reads go to a read
// replica unless ctx comes from [WithMaster]. It is safe for concurrent
// use.
type StatusStore struct {
	s *Store
}

// SaveOrUpdate writes st as the user's status, inserting the row if it is
// missing, in one statement. st.UserID must be set; st is not kept.
func (ss *StatusStore) SaveOrUpdate(ctx context.Context, st *Status) error {
	s := ss.s
	if st.UserID == "" {
		return &InvalidError{Table: "Status", Field: "UserId", Problem: "empty"}
	}
	query := "INSERT INTO Status (" + statusColumns + ") VALUES (?, ?, ?, ?, ?, ?) " +
		s.dialect.upsert("UserId", "Status", "Manual", "LastActivityAt", "DNDEndTime", "PrevStatus")
	if _, err := s.exec(ctx, query, st.fields()...); err != nil {
		return s.errorf("saving status of user %s: %w", st.UserID, err)
	}
	return nil
}

// Get returns the status of userID, or an error wrapping [ErrNotFound]
// when the user has none.
func (ss *StatusStore) Get(ctx context.Context, userID string) (*Status, error) {
	s := ss.s
	var st Status
	err := s.queryRow(ctx, toReplica, "SELECT "+statusColumns+" FROM Status WHERE UserId = ?", []any{userID}, st.fields()...)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, s.errorf("getting status of user %s: %w", userID, err)
	}
	return &st, nil
}

// GetMany returns the statuses of the users in userIDs that have one, in
// no particular order. Up to [MaxIDs] ids.
func (ss *StatusStore) GetMany(ctx context.Context, userIDs []string) ([]*Status, error) {
	s := ss.s
	if len(userIDs) == 0 {
		return nil, nil
	}
	if len(userIDs) > MaxIDs {
		return nil, &InvalidError{Table: "Status", Field: "UserId", Problem: "more than MaxIDs ids"}
	}
	out, err := queryAll(ctx, s, toReplica,
		"SELECT "+statusColumns+" FROM Status WHERE UserId IN ("+placeholders(len(userIDs))+")", anySlice(userIDs),
		func(rows *sql.Rows) (*Status, error) {
			var st Status
			return &st, rows.Scan(st.fields()...)
		})
	if err != nil {
		return nil, s.errorf("getting %d statuses: %w", len(userIDs), err)
	}
	return out, nil
}
