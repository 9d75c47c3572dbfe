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
