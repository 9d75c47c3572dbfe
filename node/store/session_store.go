package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

// Session is one row of Mattermost's Sessions table: a login. Field names
// follow Go style; each column is the Mattermost name (UserID is UserId).
// Times are Unix milliseconds.
type Session struct {
	ID             string // 26-character id, chosen by the caller
	Token          string // the secret the client sends; unique
	CreateAt       int64
	ExpiresAt      int64 // 0 never expires
	LastActivityAt int64
	UserID         string
	DeviceID       string
	Roles          string // the user's roles when the session was made
	IsOAuth        bool
	ExpiredNotify  bool
	Props          string // JSON object (holds the CSRF token)
}

// sessionColumns lists the Sessions columns in the order of
// [Session.fields].
const sessionColumns = "Id, Token, CreateAt, ExpiresAt, LastActivityAt, UserId, DeviceId, Roles, " +
	"IsOAuth, ExpiredNotify, Props"

// fields returns pointers to s's fields in sessionColumns order.
func (s *Session) fields() []any {
	return []any{&s.ID, &s.Token, &s.CreateAt, &s.ExpiresAt, &s.LastActivityAt, &s.UserID,
		&s.DeviceID, &s.Roles, &s.IsOAuth, &s.ExpiredNotify, &s.Props}
}

// SessionStore reads and writes the Sessions table. Every call goes to the
// master, replicas or not: a session is read right after the login that
// wrote it, possibly on another node (Mattermost reads sessions with
// RequestContextWithMaster, PR #16888). It is safe for concurrent use.
type SessionStore struct {
	s *Store
}

// Save inserts sess, which is not modified or kept. sess.ID and
// sess.Token must be set; a row with the same id gives a
// [*ConflictError].
func (ss *SessionStore) Save(ctx context.Context, sess *Session) error {
	s := ss.s
	switch {
	case sess.ID == "":
		return &InvalidError{Table: "Sessions", Field: "Id", Problem: "empty"}
	case sess.Token == "":
		return &InvalidError{Table: "Sessions", Field: "Token", Problem: "empty"}
	}
	query := "INSERT INTO Sessions (" + sessionColumns + ") VALUES (" + placeholders(strings.Count(sessionColumns, ",")+1) + ")"
	if _, err := s.exec(ctx, query, sess.fields()...); err != nil {
		if isUniqueViolation(err) {
			err = &ConflictError{Table: "Sessions", ID: sess.ID, Err: err}
		}
		return s.errorf("saving session %s: %w", sess.ID, err)
	}
	return nil
}

// GetByToken returns the session whose token is token, expired or not, or
// an error wrapping [ErrNotFound]. Errors never contain the token.
func (ss *SessionStore) GetByToken(ctx context.Context, token string) (*Session, error) {
	s := ss.s
	var sess Session
	err := s.queryRow(ctx, toMaster, "SELECT "+sessionColumns+" FROM Sessions WHERE Token = ?", []any{token}, sess.fields()...)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, s.errorf("getting session by token: %w", err)
	}
	return &sess, nil
}

// Remove deletes the session of id. A missing session is not an error.
func (ss *SessionStore) Remove(ctx context.Context, id string) error {
	s := ss.s
	if _, err := s.exec(ctx, "DELETE FROM Sessions WHERE Id = ?", id); err != nil {
		return s.errorf("removing session %s: %w", id, err)
	}
	return nil
}
