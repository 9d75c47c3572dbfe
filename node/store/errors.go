package store

import (
	"errors"
	"fmt"
)

// ErrNotFound is returned, wrapped, when a lookup matches no row. Test for it
// with errors.Is.
var ErrNotFound = errors.New("store: not found")

// ErrClosed is returned, wrapped, by every call on a [Store] after
// [Store.Close].
var ErrClosed = errors.New("store: closed")

// ConflictError is returned, wrapped, when a write would break a uniqueness
// rule: a second row with the same id, username, email, channel name in a
// team, and so on. The app turns it into Mattermost's "already exists"
// errors. Test for it with errors.As.
type ConflictError struct {
	// Table is the table written, e.g. "Users".
	Table string
	// ID is the id of the row that was being written.
	ID string
	// Err is the driver's error (unique violation), for logs.
	Err error
}

// Error returns "store: <table> <id> conflicts with an existing row: <driver error>".
func (e *ConflictError) Error() string {
	return fmt.Sprintf("store: %s %s conflicts with an existing row: %v", e.Table, e.ID, e.Err)
}

// Unwrap returns the driver's error.
func (e *ConflictError) Unwrap() error { return e.Err }

// InvalidError is returned when a row handed to a store method lacks a
// field the store needs (such as its id). It is a programming error in the
// caller, not a database problem.
type InvalidError struct {
	// Table is the table the row is for, e.g. "Posts".
	Table string
	// Field is the offending field's column name, e.g. "Id".
	Field string
	// Problem says what is wrong, in lower case.
	Problem string
}

// Error returns "store: <table>.<field>: <problem>".
func (e *InvalidError) Error() string {
	return "store: " + e.Table + "." + e.Field + ": " + e.Problem
}

var (
	_ error = (*ConflictError)(nil)
	_ error = (*InvalidError)(nil)
)
