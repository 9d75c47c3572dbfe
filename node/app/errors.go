package app

import (
	"errors"
	"fmt"
)

// Kind classifies an [*Error] for the API, which alone turns it into an
// HTTP status.
type Kind int

// The kinds of [*Error]. The API's statuses are given for reference.
const (
	// KindInternal is a failure of the node or its database (500).
	KindInternal Kind = iota
	// KindInvalid is a request that breaks a rule on its input (400).
	KindInvalid
	// KindUnauthorized is a request without a valid session, or a login
	// with wrong credentials (401).
	KindUnauthorized
	// KindForbidden is a request whose session lacks a permission (403).
	KindForbidden
	// KindNotFound is a request naming something that does not exist (404).
	KindNotFound
	// KindConflict is a write that would duplicate something unique (a
	// username, a team name); Mattermost answers 400.
	KindConflict
	// KindNotImplemented is a feature the configuration turns off, such as
	// sign-up (501, as Mattermost).
	KindNotImplemented
)

// Error is an error of the app's rules, with Mattermost's error id. The API
// writes it as an AppError with the status of its kind.
type Error struct {
	// ID is Mattermost's translation id, e.g.
	// "api.context.permissions.app_error".
	ID string
	// Message is the English text of ID.
	Message string
	// Detail says what exactly was wrong, for developers (AppError's
	// detailed_error). It never holds a secret.
	Detail string
	// Kind decides the HTTP status.
	Kind Kind
	// Err is the underlying error, if any; it is not shown to clients.
	Err error
}

// Error returns the message, the detail and the cause.
func (e *Error) Error() string {
	msg := e.ID + ": " + e.Message
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of the first [*Error] in err's chain, or
// KindInternal when there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// Errors the store interfaces return, wrapped, for the app to act on. The
// node's store adapters translate node/store's own errors into these.
var (
	// ErrNotFound means the row asked for does not exist.
	ErrNotFound = errors.New("app: not found")
	// ErrConflict means a write would break a uniqueness rule.
	ErrConflict = errors.New("app: conflicts with an existing row")
)

// newError returns an Error of kind with Mattermost's id and message.
func newError(kind Kind, id, message, detail string) *Error {
	return &Error{ID: id, Message: message, Detail: detail, Kind: kind}
}

// internal wraps a failure of the store or the node: what was being done,
// under Mattermost's id for it.
func internal(id, doing string, err error) *Error {
	return &Error{ID: id, Message: "An internal error occurred while " + doing + ".", Kind: KindInternal,
		Err: fmt.Errorf("%s: %w", doing, err)}
}

// invalidParam is Mattermost's c.SetInvalidParam for a field of a request
// body: api.context.invalid_body_param.app_error.
func invalidParam(name string) *Error {
	return newError(KindInvalid, "api.context.invalid_body_param.app_error",
		"Invalid or missing "+name+" in request body.", "")
}

// forbidden is Mattermost's c.SetPermissionError: 403
// api.context.permissions.app_error naming the permission.
func forbidden(userID string, permission string) *Error {
	return newError(KindForbidden, "api.context.permissions.app_error",
		"You do not have the appropriate permissions.",
		"userId="+userID+", permission="+permission)
}

// sessionExpired is Mattermost's 401 for a missing, unknown or expired
// session.
func sessionExpired(detail string) *Error {
	return newError(KindUnauthorized, "api.context.session_expired.app_error",
		"Invalid or expired session, please login again.", detail)
}

var _ error = (*Error)(nil)
