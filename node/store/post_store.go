package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
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

// scanPost scans a row of postColumns.
func scanPost(rows *sql.Rows) (*Post, error) {
	var p Post
	return &p, rows.Scan(p.fields()...)
}

// checkPage rejects a negative page or a perPage below 1.
func checkPage(page, perPage int) error {
	switch {
	case page < 0:
		return &InvalidError{Table: "Posts", Field: "page", Problem: "negative"}
	case perPage <= 0:
		return &InvalidError{Table: "Posts", Field: "perPage", Problem: "must be positive"}
	}
	return nil
}

// GetBefore returns page number page (from 0) of the channel's posts that
// are not deleted and were created before the post postID, perPage to a
// page, newest first: Mattermost's GET /channels/{id}/posts?before=. A
// missing postID gives an empty page, as in Mattermost (the comparison
// with its CreateAt is NULL).
func (ps *PostStore) GetBefore(ctx context.Context, channelID, postID string, page, perPage int) ([]*Post, error) {
	return ps.getAround(ctx, channelID, postID, page, perPage, true)
}

// GetAfter returns page number page (from 0) of the channel's posts that
// are not deleted and were created after the post postID, perPage to a
// page: page 0 holds the perPage posts right after postID. Each page is
// newest first, as every PostList is: Mattermost's
// GET /channels/{id}/posts?after=. A missing postID gives an empty page.
func (ps *PostStore) GetAfter(ctx context.Context, channelID, postID string, page, perPage int) ([]*Post, error) {
	return ps.getAround(ctx, channelID, postID, page, perPage, false)
}

// getAround is GetBefore (before) or GetAfter.
func (ps *PostStore) getAround(ctx context.Context, channelID, postID string, page, perPage int, before bool) ([]*Post, error) {
	s := ps.s
	if err := checkPage(page, perPage); err != nil {
		return nil, err
	}
	op, order := ">", "ASC"
	if before {
		op, order = "<", "DESC"
	}
	posts, err := queryAll(ctx, s, toReplica,
		"SELECT "+postColumns+" FROM Posts WHERE ChannelId = ? AND DeleteAt = 0 AND "+
			"CreateAt "+op+" (SELECT CreateAt FROM Posts WHERE Id = ?) "+
			"ORDER BY CreateAt "+order+", Id "+order+" LIMIT ? OFFSET ?",
		[]any{channelID, postID, perPage, page * perPage}, scanPost)
	if err != nil {
		return nil, s.errorf("getting posts of channel %s around %s: %w", channelID, postID, err)
	}
	if !before {
		slices.Reverse(posts)
	}
	return posts, nil
}

// GetSince returns up to limit posts of the channel created, edited or
// deleted after since (UpdateAt > since, Unix milliseconds), deleted ones
// included so that clients learn of deletions, newest first (by CreateAt,
// then id): Mattermost's GET /channels/{id}/posts?since=, which reads at
// most 1000.
func (ps *PostStore) GetSince(ctx context.Context, channelID string, since int64, limit int) ([]*Post, error) {
	s := ps.s
	if limit <= 0 {
		return nil, &InvalidError{Table: "Posts", Field: "limit", Problem: "must be positive"}
	}
	posts, err := queryAll(ctx, s, toReplica,
		"SELECT "+postColumns+" FROM Posts WHERE ChannelId = ? AND UpdateAt > ? ORDER BY CreateAt DESC, Id DESC LIMIT ?",
		[]any{channelID, since, limit}, scanPost)
	if err != nil {
		return nil, s.errorf("getting posts of channel %s since %d: %w", channelID, since, err)
	}
	return posts, nil
}

// GetThreads returns the posts of the threads whose root posts are
// rootIDs, roots and replies, not deleted, in no particular order: what
// Mattermost adds to a PostList's posts (not its order) for replies on a
// page. Up to [MaxIDs] root ids.
func (ps *PostStore) GetThreads(ctx context.Context, rootIDs []string) ([]*Post, error) {
	s := ps.s
	if len(rootIDs) == 0 {
		return nil, nil
	}
	if len(rootIDs) > MaxIDs {
		return nil, &InvalidError{Table: "Posts", Field: "RootId", Problem: "more than MaxIDs ids"}
	}
	in := placeholders(len(rootIDs))
	args := append(anySlice(rootIDs), anySlice(rootIDs)...)
	posts, err := queryAll(ctx, s, toReplica,
		"SELECT "+postColumns+" FROM Posts WHERE (Id IN ("+in+") OR RootId IN ("+in+")) AND DeleteAt = 0",
		args, scanPost)
	if err != nil {
		return nil, s.errorf("getting %d threads: %w", len(rootIDs), err)
	}
	return posts, nil
}

// IDBefore returns the id of the newest post of the channel, not deleted,
// created before createAt, or "" when there is none: a PostList's
// prev_post_id (Mattermost's GetPostIdBeforeTime).
func (ps *PostStore) IDBefore(ctx context.Context, channelID string, createAt int64) (string, error) {
	return ps.idAround(ctx, channelID, createAt, true)
}

// IDAfter returns the id of the oldest post of the channel, not deleted,
// created after createAt, or "" when there is none: a PostList's
// next_post_id (Mattermost's GetPostIdAfterTime).
func (ps *PostStore) IDAfter(ctx context.Context, channelID string, createAt int64) (string, error) {
	return ps.idAround(ctx, channelID, createAt, false)
}

// idAround is IDBefore (before) or IDAfter.
func (ps *PostStore) idAround(ctx context.Context, channelID string, createAt int64, before bool) (string, error) {
	s := ps.s
	op, order := ">", "ASC"
	if before {
		op, order = "<", "DESC"
	}
	var id string
	err := s.queryRow(ctx, toReplica,
		"SELECT Id FROM Posts WHERE ChannelId = ? AND DeleteAt = 0 AND CreateAt "+op+" ? ORDER BY CreateAt "+order+", Id "+order+" LIMIT 1",
		[]any{channelID, createAt}, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", s.errorf("getting the post of channel %s next to %d: %w", channelID, createAt, err)
	}
	return id, nil
}
