package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

// User is one row of Mattermost's Users table. Field names follow Go style;
// the column of each is its Mattermost name (ID is Id, and so on). Times
// are Unix milliseconds.
type User struct {
	ID                 string // 26-character id, chosen by the caller
	CreateAt           int64
	UpdateAt           int64
	DeleteAt           int64 // 0 while the account is active
	Username           string
	Password           string // the password's hash, never the password
	AuthService        string
	Email              string
	EmailVerified      bool
	Nickname           string
	FirstName          string
	LastName           string
	Position           string
	Roles              string // space-separated role names, e.g. "system_user"
	AllowMarketing     bool
	Props              string // JSON object
	NotifyProps        string // JSON object
	Timezone           string // JSON object
	LastPasswordUpdate int64
	LastPictureUpdate  int64
	FailedAttempts     int
	Locale             string
	MfaActive          bool
	MfaSecret          string
}

// userColumns lists the Users columns in the order of [User.fields].
const userColumns = "Id, CreateAt, UpdateAt, DeleteAt, Username, Password, AuthService, Email, " +
	"EmailVerified, Nickname, FirstName, LastName, Position, Roles, AllowMarketing, Props, " +
	"NotifyProps, Timezone, LastPasswordUpdate, LastPictureUpdate, FailedAttempts, Locale, " +
	"MfaActive, MfaSecret"

// fields returns pointers to u's fields in userColumns order: scan
// destinations, and insert arguments (database/sql dereferences them).
func (u *User) fields() []any {
	return []any{&u.ID, &u.CreateAt, &u.UpdateAt, &u.DeleteAt, &u.Username, &u.Password,
		&u.AuthService, &u.Email, &u.EmailVerified, &u.Nickname, &u.FirstName, &u.LastName,
		&u.Position, &u.Roles, &u.AllowMarketing, &u.Props, &u.NotifyProps, &u.Timezone,
		&u.LastPasswordUpdate, &u.LastPictureUpdate, &u.FailedAttempts, &u.Locale,
		&u.MfaActive, &u.MfaSecret}
}

// UserStore reads and writes the Users table. Reads go to a read replica
// unless ctx comes from [WithMaster]; searches go to a search replica. It is
// safe for concurrent use.
type UserStore struct {
	s *Store
}

// Save inserts u, which is not modified or kept. u.ID must be set. A row
// with the same id, username or email gives a [*ConflictError].
func (us *UserStore) Save(ctx context.Context, u *User) error {
	s := us.s
	if u.ID == "" {
		return &InvalidError{Table: "Users", Field: "Id", Problem: "empty"}
	}
	query := "INSERT INTO Users (" + userColumns + ") VALUES (" + placeholders(strings.Count(userColumns, ",")+1) + ")"
	if _, err := s.exec(ctx, query, u.fields()...); err != nil {
		if isUniqueViolation(err) {
			err = &ConflictError{Table: "Users", ID: u.ID, Err: err}
		}
		return s.errorf("saving user %s: %w", u.ID, err)
	}
	return nil
}

// Get returns the user of id, deleted or not, or an error wrapping
// [ErrNotFound].
func (us *UserStore) Get(ctx context.Context, id string) (*User, error) {
	s := us.s
	var u User
	err := s.queryRow(ctx, toReplica, "SELECT "+userColumns+" FROM Users WHERE Id = ?", []any{id}, u.fields()...)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, s.errorf("getting user %s: %w", id, err)
	}
	return &u, nil
}

// GetByUsername returns the user whose username is username (usernames
// are stored lower case; the match is exact), deleted or not, or an error
// wrapping [ErrNotFound].
func (us *UserStore) GetByUsername(ctx context.Context, username string) (*User, error) {
	return us.getBy(ctx, "Username", username)
}

// GetByEmail returns the user whose email is email (emails are stored
// lower case; the match is exact), deleted or not, or an error wrapping
// [ErrNotFound].
func (us *UserStore) GetByEmail(ctx context.Context, email string) (*User, error) {
	return us.getBy(ctx, "Email", email)
}

// getBy returns the one user whose column (a unique one) equals value.
func (us *UserStore) getBy(ctx context.Context, column, value string) (*User, error) {
	s := us.s
	var u User
	err := s.queryRow(ctx, toReplica, "SELECT "+userColumns+" FROM Users WHERE "+column+" = ?", []any{value}, u.fields()...)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, s.errorf("getting user by %s: %w", strings.ToLower(column), err)
	}
	return &u, nil
}

// GetMany returns the users whose ids are in ids, deleted or not, in no
// particular order; ids with no user are left out. Up to [MaxIDs] ids.
func (us *UserStore) GetMany(ctx context.Context, ids []string) ([]*User, error) {
	s := us.s
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > MaxIDs {
		return nil, &InvalidError{Table: "Users", Field: "Id", Problem: "more than MaxIDs ids"}
	}
	users, err := queryAll(ctx, s, toReplica,
		"SELECT "+userColumns+" FROM Users WHERE Id IN ("+placeholders(len(ids))+")", anySlice(ids),
		func(rows *sql.Rows) (*User, error) {
			var u User
			return &u, rows.Scan(u.fields()...)
		})
	if err != nil {
		return nil, s.errorf("getting %d users: %w", len(ids), err)
	}
	return users, nil
}

// Count returns the number of users, deleted ones included (Mattermost's
// UserCountOptions{IncludeDeleted: true}). It reads the master: the answer
// decides whether a sign-up is the first one.
func (us *UserStore) Count(ctx context.Context) (int64, error) {
	s := us.s
	var n int64
	if err := s.queryRow(ctx, toMaster, "SELECT COUNT(*) FROM Users", nil, &n); err != nil {
		return 0, s.errorf("counting users: %w", err)
	}
	return n, nil
}

// UpdateFailedAttempts sets the user's count of wrong passwords in a row.
// A missing user is not an error.
func (us *UserStore) UpdateFailedAttempts(ctx context.Context, id string, attempts int) error {
	s := us.s
	if _, err := s.exec(ctx, "UPDATE Users SET FailedAttempts = ? WHERE Id = ?", attempts, id); err != nil {
		return s.errorf("updating failed attempts of user %s: %w", id, err)
	}
	return nil
}

// Update writes the fields of u a user may change about themselves over
// the row of u.ID: UpdateAt, Username, Email, EmailVerified, Nickname,
// FirstName, LastName, Position, Props, NotifyProps, Timezone and Locale
// (Mattermost's UserStore.Update without trusted data). The password,
// roles, deletion, MFA, authentication and counters are left as they are.
// u is not modified or kept. A missing user is an error wrapping
// [ErrNotFound]; a username or email another user has gives a
// [*ConflictError].
func (us *UserStore) Update(ctx context.Context, u *User) error {
	s := us.s
	if u.ID == "" {
		return &InvalidError{Table: "Users", Field: "Id", Problem: "empty"}
	}
	res, err := s.exec(ctx, "UPDATE Users SET UpdateAt = ?, Username = ?, Email = ?, EmailVerified = ?, Nickname = ?, "+
		"FirstName = ?, LastName = ?, Position = ?, Props = ?, NotifyProps = ?, Timezone = ?, Locale = ? WHERE Id = ?",
		u.UpdateAt, u.Username, u.Email, u.EmailVerified, u.Nickname, u.FirstName, u.LastName, u.Position,
		u.Props, u.NotifyProps, u.Timezone, u.Locale, u.ID)
	if err != nil {
		if isUniqueViolation(err) {
			err = &ConflictError{Table: "Users", ID: u.ID, Err: err}
		}
		return s.errorf("updating user %s: %w", u.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.errorf("updating user %s: %w", u.ID, err)
	}
	if n > 0 {
		return nil
	}
	// MySQL counts changed rows, not matched ones: an update that changes
	// nothing (the same values in the same millisecond) is not a missing
	// user. Ask the master.
	var found int64
	if err := s.queryRow(ctx, toMaster, "SELECT COUNT(*) FROM Users WHERE Id = ?", []any{u.ID}, &found); err != nil {
		return s.errorf("updating user %s: %w", u.ID, err)
	}
	if found == 0 {
		return s.errorf("updating user %s: %w", u.ID, ErrNotFound)
	}
	return nil
}

// Search returns up to limit active users whose username starts with
// prefix (usernames are lower case; so is the match), ordered by username.
// It is a search query: it runs on a search replica, else a read replica,
// else the master.
func (us *UserStore) Search(ctx context.Context, prefix string, limit int) ([]*User, error) {
	s := us.s
	if limit <= 0 {
		return nil, &InvalidError{Table: "Users", Field: "limit", Problem: "must be positive"}
	}
	users, err := queryAll(ctx, s, toSearch,
		"SELECT "+userColumns+" FROM Users WHERE Username LIKE ? ESCAPE '!' AND DeleteAt = 0 ORDER BY Username LIMIT ?",
		[]any{likePrefix(strings.ToLower(prefix)), limit},
		func(rows *sql.Rows) (*User, error) {
			var u User
			return &u, rows.Scan(u.fields()...)
		})
	if err != nil {
		return nil, s.errorf("searching users: %w", err)
	}
	return users, nil
}

// likePrefix returns the LIKE pattern matching strings that start with
// prefix, with LIKE's wildcards in prefix escaped by "!" (ESCAPE '!', which
// every dialect reads alike; MySQL would take a backslash as a string
// escape too).
func likePrefix(prefix string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(prefix) + "%"
}

// placeholders returns "?, ?, ..." with n placeholders.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// MaxIDs is the most ids one lookup by a list of ids takes (GetMany and
// the like): it bounds the statement and stays under every driver's limit
// on placeholders. Mattermost's REST API takes up to 200 per page.
const MaxIDs = 1000

// anySlice returns ids as statement arguments.
func anySlice(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
