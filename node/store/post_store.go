package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

// Post is one row of Mattermost's Posts table. Field names follow Go style;
// each column is the Mattermost name (ChannelID is ChannelId). Times are
// Unix milliseconds.
type Post struct {
	ID           string // 26-character id, chosen by the caller
	CreateAt     int64
	UpdateAt     int64
	EditAt       int64 // 0 until the message is edited
	DeleteAt     int64 // 0 while the post is not deleted
	IsPinned     bool
	UserID       string
	ChannelID    string
	RootID       string // the thread's first post; "" for a post that is not a reply
	OriginalID   string
	Message      string
	Type         string // "" for a user's message, "system_..." for system messages
	Props        string // JSON object
	Hashtags     string // space-separated
	FileIDs      string // JSON array of file ids
	HasReactions bool
}

// postColumns lists the Posts columns in the order of [Post.fields].
const postColumns = "Id, CreateAt, UpdateAt, EditAt, DeleteAt, IsPinned, UserId, ChannelId, RootId, " +
	"OriginalId, Message, Type, Props, Hashtags, FileIds, HasReactions"

// fields returns pointers to p's fields in postColumns order.
func (p *Post) fields() []any {
	return []any{&p.ID, &p.CreateAt, &p.UpdateAt, &p.EditAt, &p.DeleteAt, &p.IsPinned,
		&p.UserID, &p.ChannelID, &p.RootID, &p.OriginalID, &p.Message, &p.Type, &p.Props,
		&p.Hashtags, &p.FileIDs, &p.HasReactions}
}

// PostStore reads and writes the Posts table. Reads go to a read replica
// unless ctx comes from [WithMaster]. It is safe for concurrent use.
type PostStore struct {
	s *Store
}

// Save inserts p, which is not modified or kept, and in the same
// transaction counts it in its channel as Mattermost does: TotalMsgCount
// (and TotalMsgCountRoot for a post that is not a reply) go up by one, and
// LastPostAt (and LastRootPostAt) become p.CreateAt if that is newer. A
// missing channel is not an error. p.ID and p.ChannelID must be set; a row
// with the same id gives a [*ConflictError].
func (ps *PostStore) Save(ctx context.Context, p *Post) error {
	s := ps.s
	switch {
	case p.ID == "":
		return &InvalidError{Table: "Posts", Field: "Id", Problem: "empty"}
	case p.ChannelID == "":
		return &InvalidError{Table: "Posts", Field: "ChannelId", Problem: "empty"}
	}
	insert := "INSERT INTO Posts (" + postColumns + ") VALUES (" + placeholders(strings.Count(postColumns, ",")+1) + ")"
	update := "UPDATE Channels SET LastPostAt = CASE WHEN LastPostAt < ? THEN ? ELSE LastPostAt END, " +
		"TotalMsgCount = TotalMsgCount + 1"
	args := []any{p.CreateAt, p.CreateAt}
	if p.RootID == "" {
		update += ", LastRootPostAt = CASE WHEN LastRootPostAt < ? THEN ? ELSE LastRootPostAt END, " +
			"TotalMsgCountRoot = TotalMsgCountRoot + 1"
		args = append(args, p.CreateAt, p.CreateAt)
	}
	update += " WHERE Id = ?"
	args = append(args, p.ChannelID)

	err := s.inTx(ctx, func(tx *txn) error {
		if _, err := tx.exec(insert, p.fields()...); err != nil {
			return err
		}
		_, err := tx.exec(update, args...)
		return err
	})
	if err != nil {
		if isUniqueViolation(err) {
			err = &ConflictError{Table: "Posts", ID: p.ID, Err: err}
		}
		return s.errorf("saving post %s: %w", p.ID, err)
	}
	return nil
}

// Get returns the post of id, deleted or not, or an error wrapping
// [ErrNotFound].
func (ps *PostStore) Get(ctx context.Context, id string) (*Post, error) {
	s := ps.s
	var p Post
	err := s.queryRow(ctx, toReplica, "SELECT "+postColumns+" FROM Posts WHERE Id = ?", []any{id}, p.fields()...)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, s.errorf("getting post %s: %w", id, err)
	}
	return &p, nil
}

// GetPage returns page number page (from 0) of the channel's posts that
// are not deleted, perPage to a page, newest first (by CreateAt, then by
// id), as Mattermost's GET /api/v4/channels/{id}/posts?page=&per_page=
// reads them. A page past the end is empty, not an error. The read uses
// idx_posts_channel_id_delete_at_create_at.
func (ps *PostStore) GetPage(ctx context.Context, channelID string, page, perPage int) ([]*Post, error) {
	s := ps.s
	switch {
	case page < 0:
		return nil, &InvalidError{Table: "Posts", Field: "page", Problem: "negative"}
	case perPage <= 0:
		return nil, &InvalidError{Table: "Posts", Field: "perPage", Problem: "must be positive"}
	}
	posts, err := queryAll(ctx, s, toReplica,
		"SELECT "+postColumns+" FROM Posts WHERE ChannelId = ? AND DeleteAt = 0 "+
			"ORDER BY CreateAt DESC, Id DESC LIMIT ? OFFSET ?",
		[]any{channelID, perPage, page * perPage},
		func(rows *sql.Rows) (*Post, error) {
			var p Post
			return &p, rows.Scan(p.fields()...)
		})
	if err != nil {
		return nil, s.errorf("getting posts of channel %s: %w", channelID, err)
	}
	return posts, nil
}
