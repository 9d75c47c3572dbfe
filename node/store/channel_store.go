package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

// Channel is one row of Mattermost's Channels table. Field names follow Go
// style; each column is the Mattermost name (TeamID is TeamId). Times are
// Unix milliseconds.
type Channel struct {
	ID                string // 26-character id, chosen by the caller
	CreateAt          int64
	UpdateAt          int64
	DeleteAt          int64 // 0 while the channel is not archived
	TeamID            string
	Type              string // "O" open, "P" private, "D" direct, "G" group
	DisplayName       string
	Name              string // unique within the team
	Header            string
	Purpose           string
	LastPostAt        int64 // CreateAt of the newest post
	TotalMsgCount     int64
	ExtraUpdateAt     int64
	CreatorID         string
	SchemeID          string
	GroupConstrained  bool
	Shared            bool
	TotalMsgCountRoot int64 // posts that are not replies
	LastRootPostAt    int64 // CreateAt of the newest post that is not a reply
}

// channelColumns lists the Channels columns in the order of
// [Channel.fields].
const channelColumns = "Id, CreateAt, UpdateAt, DeleteAt, TeamId, Type, DisplayName, Name, Header, " +
	"Purpose, LastPostAt, TotalMsgCount, ExtraUpdateAt, CreatorId, SchemeId, GroupConstrained, " +
	"Shared, TotalMsgCountRoot, LastRootPostAt"

// fields returns pointers to c's fields in channelColumns order.
func (c *Channel) fields() []any {
	return []any{&c.ID, &c.CreateAt, &c.UpdateAt, &c.DeleteAt, &c.TeamID, &c.Type,
		&c.DisplayName, &c.Name, &c.Header, &c.Purpose, &c.LastPostAt, &c.TotalMsgCount,
		&c.ExtraUpdateAt, &c.CreatorID, &c.SchemeID, &c.GroupConstrained, &c.Shared,
		&c.TotalMsgCountRoot, &c.LastRootPostAt}
}

// ChannelStore reads and writes the Channels table. Reads go to a read
// replica unless ctx comes from [WithMaster]. It is safe for concurrent
// use.
type ChannelStore struct {
	s *Store
}

// Save inserts c, which is not modified or kept. c.ID must be set. A row
// with the same id, or the same name in the same team, gives a
// [*ConflictError].
func (cs *ChannelStore) Save(ctx context.Context, c *Channel) error {
	s := cs.s
	if c.ID == "" {
		return &InvalidError{Table: "Channels", Field: "Id", Problem: "empty"}
	}
	query := "INSERT INTO Channels (" + channelColumns + ") VALUES (" + placeholders(strings.Count(channelColumns, ",")+1) + ")"
	if _, err := s.exec(ctx, query, c.fields()...); err != nil {
		if isUniqueViolation(err) {
			err = &ConflictError{Table: "Channels", ID: c.ID, Err: err}
		}
		return s.errorf("saving channel %s: %w", c.ID, err)
	}
	return nil
}

// Get returns the channel of id, archived or not, or an error wrapping
// [ErrNotFound].
func (cs *ChannelStore) Get(ctx context.Context, id string) (*Channel, error) {
	s := cs.s
	var c Channel
	err := s.queryRow(ctx, toReplica, "SELECT "+channelColumns+" FROM Channels WHERE Id = ?", []any{id}, c.fields()...)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, s.errorf("getting channel %s: %w", id, err)
	}
	return &c, nil
}

// GetByName returns the channel of teamID named name, archived or not, or
// an error wrapping [ErrNotFound].
func (cs *ChannelStore) GetByName(ctx context.Context, teamID, name string) (*Channel, error) {
	s := cs.s
	var c Channel
	err := s.queryRow(ctx, toReplica, "SELECT "+channelColumns+" FROM Channels WHERE TeamId = ? AND Name = ?",
		[]any{teamID, name}, c.fields()...)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, s.errorf("getting channel %q of team %s: %w", name, teamID, err)
	}
	return &c, nil
}

// GetForTeamUser returns the channels of teamID that userID is a member
// of and that are not archived, ordered by display name then id, as
// Mattermost's GET /users/{user_id}/teams/{team_id}/channels lists them.
func (cs *ChannelStore) GetForTeamUser(ctx context.Context, teamID, userID string) ([]*Channel, error) {
	s := cs.s
	channels, err := queryAll(ctx, s, toReplica,
		"SELECT "+qualify("Channels", channelColumns)+" FROM Channels "+
			"JOIN ChannelMembers ON ChannelMembers.ChannelId = Channels.Id "+
			"WHERE Channels.TeamId = ? AND ChannelMembers.UserId = ? AND Channels.DeleteAt = 0 "+
			"ORDER BY Channels.DisplayName, Channels.Id",
		[]any{teamID, userID},
		func(rows *sql.Rows) (*Channel, error) {
			var c Channel
			return &c, rows.Scan(c.fields()...)
		})
	if err != nil {
		return nil, s.errorf("getting channels of user %s in team %s: %w", userID, teamID, err)
	}
	return channels, nil
}

// ChannelMember is one row of Mattermost's ChannelMembers table: who is in
// a channel and what they have read. Times are Unix milliseconds.
type ChannelMember struct {
	ChannelID          string
	UserID             string
	Roles              string // explicit roles beyond the scheme's
	LastViewedAt       int64
	MsgCount           int64
	MentionCount       int64
	MentionCountRoot   int64
	MsgCountRoot       int64
	UrgentMentionCount int64
	NotifyProps        string // JSON object
	LastUpdateAt       int64
	SchemeUser         bool // has the channel_user role
	SchemeAdmin        bool // has the channel_admin role
	SchemeGuest        bool
}

// channelMemberColumns lists the ChannelMembers columns in the order of
// [ChannelMember.fields].
const channelMemberColumns = "ChannelId, UserId, Roles, LastViewedAt, MsgCount, MentionCount, " +
	"MentionCountRoot, MsgCountRoot, UrgentMentionCount, NotifyProps, LastUpdateAt, SchemeUser, " +
	"SchemeAdmin, SchemeGuest"

// fields returns pointers to m's fields in channelMemberColumns order.
func (m *ChannelMember) fields() []any {
	return []any{&m.ChannelID, &m.UserID, &m.Roles, &m.LastViewedAt, &m.MsgCount, &m.MentionCount,
		&m.MentionCountRoot, &m.MsgCountRoot, &m.UrgentMentionCount, &m.NotifyProps, &m.LastUpdateAt,
		&m.SchemeUser, &m.SchemeAdmin, &m.SchemeGuest}
}

// insertMember is the statement that saves a ChannelMember.
const insertMember = "INSERT INTO ChannelMembers (" + channelMemberColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

// SaveWithMember inserts c and, in the same transaction, m as its first
// member (the creator), so a channel never exists without its creator.
// Neither is modified or kept. c.ID must be set and m.ChannelID must be
// c.ID. A channel with the same id, or the same name in the same team,
// gives a [*ConflictError] and saves nothing.
func (cs *ChannelStore) SaveWithMember(ctx context.Context, c *Channel, m *ChannelMember) error {
	s := cs.s
	switch {
	case c.ID == "":
		return &InvalidError{Table: "Channels", Field: "Id", Problem: "empty"}
	case m.ChannelID != c.ID || m.UserID == "":
		return &InvalidError{Table: "ChannelMembers", Field: "ChannelId, UserId", Problem: "not the channel's, or empty"}
	}
	query := "INSERT INTO Channels (" + channelColumns + ") VALUES (" + placeholders(strings.Count(channelColumns, ",")+1) + ")"
	err := s.inTx(ctx, func(tx *txn) error {
		if _, err := tx.exec(query, c.fields()...); err != nil {
			return err
		}
		_, err := tx.exec(insertMember, m.fields()...)
		return err
	})
	if err != nil {
		if isUniqueViolation(err) {
			err = &ConflictError{Table: "Channels", ID: c.ID, Err: err}
		}
		return s.errorf("saving channel %s with member %s: %w", c.ID, m.UserID, err)
	}
	return nil
}

// SaveMember inserts m, which is not modified or kept. m.ChannelID and
// m.UserID must be set; a row for the same channel and user gives a
// [*ConflictError] (its ID is "<channel id>:<user id>").
func (cs *ChannelStore) SaveMember(ctx context.Context, m *ChannelMember) error {
	s := cs.s
	if m.ChannelID == "" || m.UserID == "" {
		return &InvalidError{Table: "ChannelMembers", Field: "ChannelId, UserId", Problem: "empty"}
	}
	if _, err := s.exec(ctx, insertMember, m.fields()...); err != nil {
		if isUniqueViolation(err) {
			err = &ConflictError{Table: "ChannelMembers", ID: m.ChannelID + ":" + m.UserID, Err: err}
		}
		return s.errorf("saving member %s of channel %s: %w", m.UserID, m.ChannelID, err)
	}
	return nil
}

// GetMember returns userID's membership of channelID, or an error wrapping
// [ErrNotFound].
func (cs *ChannelStore) GetMember(ctx context.Context, channelID, userID string) (*ChannelMember, error) {
	s := cs.s
	var m ChannelMember
	err := s.queryRow(ctx, toReplica, "SELECT "+channelMemberColumns+" FROM ChannelMembers WHERE ChannelId = ? AND UserId = ?",
		[]any{channelID, userID}, m.fields()...)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, s.errorf("getting member %s of channel %s: %w", userID, channelID, err)
	}
	return &m, nil
}

// GetMemberIDs returns the user ids of channelID's members, in no
// particular order.
func (cs *ChannelStore) GetMemberIDs(ctx context.Context, channelID string) ([]string, error) {
	s := cs.s
	ids, err := queryAll(ctx, s, toReplica, "SELECT UserId FROM ChannelMembers WHERE ChannelId = ?",
		[]any{channelID}, scanString)
	if err != nil {
		return nil, s.errorf("getting members of channel %s: %w", channelID, err)
	}
	return ids, nil
}
