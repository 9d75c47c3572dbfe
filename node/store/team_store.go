package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

// Team is one row of Mattermost's Teams table. Field names follow Go
// style; each column is the Mattermost name (InviteID is InviteId). Times
// are Unix milliseconds.
type Team struct {
	ID                 string // 26-character id, chosen by the caller
	CreateAt           int64
	UpdateAt           int64
	DeleteAt           int64 // 0 while the team is not archived
	DisplayName        string
	Name               string // unique
	Description        string
	Email              string
	Type               string // "O" open, "I" invite only
	CompanyName        string
	AllowedDomains     string
	InviteID           string
	AllowOpenInvite    bool
	LastTeamIconUpdate int64
	SchemeID           string
	GroupConstrained   bool
}

// teamColumns lists the Teams columns in the order of [Team.fields].
const teamColumns = "Id, CreateAt, UpdateAt, DeleteAt, DisplayName, Name, Description, Email, Type, " +
	"CompanyName, AllowedDomains, InviteId, AllowOpenInvite, LastTeamIconUpdate, SchemeId, GroupConstrained"

// fields returns pointers to t's fields in teamColumns order.
func (t *Team) fields() []any {
	return []any{&t.ID, &t.CreateAt, &t.UpdateAt, &t.DeleteAt, &t.DisplayName, &t.Name,
		&t.Description, &t.Email, &t.Type, &t.CompanyName, &t.AllowedDomains, &t.InviteID,
		&t.AllowOpenInvite, &t.LastTeamIconUpdate, &t.SchemeID, &t.GroupConstrained}
}

// TeamMember is one row of Mattermost's TeamMembers table.
type TeamMember struct {
	TeamID      string
	UserID      string
	Roles       string // explicit roles beyond the scheme's
	DeleteAt    int64  // 0 while the user is in the team
	SchemeUser  bool   // has the team_user role
	SchemeAdmin bool   // has the team_admin role
	SchemeGuest bool
	CreateAt    int64
}

// teamMemberColumns lists the TeamMembers columns in the order of
// [TeamMember.fields].
const teamMemberColumns = "TeamId, UserId, Roles, DeleteAt, SchemeUser, SchemeAdmin, SchemeGuest, CreateAt"

// fields returns pointers to m's fields in teamMemberColumns order.
func (m *TeamMember) fields() []any {
	return []any{&m.TeamID, &m.UserID, &m.Roles, &m.DeleteAt, &m.SchemeUser, &m.SchemeAdmin,
		&m.SchemeGuest, &m.CreateAt}
}

// TeamStore reads and writes the Teams and TeamMembers tables. Reads go to
// a read replica unless ctx comes from [WithMaster]. It is safe for
// concurrent use.
type TeamStore struct {
	s *Store
}

// Save inserts t, which is not modified or kept. t.ID must be set. A row
// with the same id or name gives a [*ConflictError].
func (ts *TeamStore) Save(ctx context.Context, t *Team) error {
	s := ts.s
	if t.ID == "" {
		return &InvalidError{Table: "Teams", Field: "Id", Problem: "empty"}
	}
	query := "INSERT INTO Teams (" + teamColumns + ") VALUES (" + placeholders(strings.Count(teamColumns, ",")+1) + ")"
	if _, err := s.exec(ctx, query, t.fields()...); err != nil {
		if isUniqueViolation(err) {
			err = &ConflictError{Table: "Teams", ID: t.ID, Err: err}
		}
		return s.errorf("saving team %s: %w", t.ID, err)
	}
	return nil
}

// Get returns the team of id, archived or not, or an error wrapping
// [ErrNotFound].
func (ts *TeamStore) Get(ctx context.Context, id string) (*Team, error) {
	s := ts.s
	var t Team
	err := s.queryRow(ctx, toReplica, "SELECT "+teamColumns+" FROM Teams WHERE Id = ?", []any{id}, t.fields()...)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, s.errorf("getting team %s: %w", id, err)
	}
	return &t, nil
}

// GetForUser returns the teams userID is a member of (membership not
// deleted, team not archived), ordered by display name then id.
func (ts *TeamStore) GetForUser(ctx context.Context, userID string) ([]*Team, error) {
	s := ts.s
	teams, err := queryAll(ctx, s, toReplica,
		"SELECT "+qualify("Teams", teamColumns)+" FROM Teams JOIN TeamMembers ON TeamMembers.TeamId = Teams.Id "+
			"WHERE TeamMembers.UserId = ? AND TeamMembers.DeleteAt = 0 AND Teams.DeleteAt = 0 "+
			"ORDER BY Teams.DisplayName, Teams.Id",
		[]any{userID},
		func(rows *sql.Rows) (*Team, error) {
			var t Team
			return &t, rows.Scan(t.fields()...)
		})
	if err != nil {
		return nil, s.errorf("getting teams of user %s: %w", userID, err)
	}
	return teams, nil
}

// SaveMember inserts m, which is not modified or kept. m.TeamID and
// m.UserID must be set; a row for the same team and user gives a
// [*ConflictError] (its ID is "<team id>:<user id>").
func (ts *TeamStore) SaveMember(ctx context.Context, m *TeamMember) error {
	s := ts.s
	if m.TeamID == "" || m.UserID == "" {
		return &InvalidError{Table: "TeamMembers", Field: "TeamId, UserId", Problem: "empty"}
	}
	query := "INSERT INTO TeamMembers (" + teamMemberColumns + ") VALUES (" + placeholders(strings.Count(teamMemberColumns, ",")+1) + ")"
	if _, err := s.exec(ctx, query, m.fields()...); err != nil {
		if isUniqueViolation(err) {
			err = &ConflictError{Table: "TeamMembers", ID: m.TeamID + ":" + m.UserID, Err: err}
		}
		return s.errorf("saving member %s of team %s: %w", m.UserID, m.TeamID, err)
	}
	return nil
}

// GetMember returns userID's membership of teamID, deleted or not, or an
// error wrapping [ErrNotFound].
func (ts *TeamStore) GetMember(ctx context.Context, teamID, userID string) (*TeamMember, error) {
	s := ts.s
	var m TeamMember
	err := s.queryRow(ctx, toReplica, "SELECT "+teamMemberColumns+" FROM TeamMembers WHERE TeamId = ? AND UserId = ?",
		[]any{teamID, userID}, m.fields()...)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, s.errorf("getting member %s of team %s: %w", userID, teamID, err)
	}
	return &m, nil
}

// GetMemberIDs returns the user ids of teamID's members whose membership
// is not deleted, in no particular order.
func (ts *TeamStore) GetMemberIDs(ctx context.Context, teamID string) ([]string, error) {
	s := ts.s
	ids, err := queryAll(ctx, s, toReplica, "SELECT UserId FROM TeamMembers WHERE TeamId = ? AND DeleteAt = 0",
		[]any{teamID}, scanString)
	if err != nil {
		return nil, s.errorf("getting members of team %s: %w", teamID, err)
	}
	return ids, nil
}

// qualify prefixes every column of a column list with table and ".".
func qualify(table, columns string) string {
	parts := strings.Split(columns, ", ")
	for i, c := range parts {
		parts[i] = table + "." + c
	}
	return strings.Join(parts, ", ")
}

// scanString scans a one-column row into a string.
func scanString(rows *sql.Rows) (string, error) {
	var v string
	return v, rows.Scan(&v)
}
