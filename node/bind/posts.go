package bind

import (
	"context"

	"github.com/seed331fb32b/chorus/node/app"
	"github.com/seed331fb32b/chorus/node/store"
)

// posts adapts store.PostStore to app.PostStore. PendingPostID and the
// computed fields (reply count, participants, metadata) have no column.
type posts struct{ s *store.PostStore }

func (b posts) Save(ctx context.Context, p *app.Post) error {
	props, err := encodeJSON(p.Props, "{}")
	if err != nil {
		return err
	}
	files, err := encodeJSON(p.FileIDs, "[]")
	if err != nil {
		return err
	}
	return translate(b.s.Save(ctx, &store.Post{
		ID: p.ID, CreateAt: p.CreateAt, UpdateAt: p.UpdateAt, EditAt: p.EditAt, DeleteAt: p.DeleteAt,
		IsPinned: p.IsPinned, UserID: p.UserID, ChannelID: p.ChannelID, RootID: p.RootID, OriginalID: p.OriginalID,
		Message: p.Message, Type: p.Type, Props: props, Hashtags: p.Hashtags, FileIDs: files, HasReactions: p.HasReactions,
	}))
}

func (b posts) Get(ctx context.Context, id string) (*app.Post, error) {
	r, err := b.s.Get(ctx, id)
	if err != nil {
		return nil, translate(err)
	}
	return fromPostRow(r)
}

func (b posts) GetPage(ctx context.Context, channelID string, page, perPage int) ([]*app.Post, error) {
	return fromPostRows(b.s.GetPage(ctx, channelID, page, perPage))
}

func (b posts) GetBefore(ctx context.Context, channelID, postID string, page, perPage int) ([]*app.Post, error) {
	return fromPostRows(b.s.GetBefore(ctx, channelID, postID, page, perPage))
}

func (b posts) GetAfter(ctx context.Context, channelID, postID string, page, perPage int) ([]*app.Post, error) {
	return fromPostRows(b.s.GetAfter(ctx, channelID, postID, page, perPage))
}

func (b posts) GetSince(ctx context.Context, channelID string, since int64, limit int) ([]*app.Post, error) {
	return fromPostRows(b.s.GetSince(ctx, channelID, since, limit))
}

func (b posts) GetThreads(ctx context.Context, rootIDs []string) ([]*app.Post, error) {
	return fromPostRows(b.s.GetThreads(ctx, rootIDs))
}

func (b posts) IDBefore(ctx context.Context, channelID string, createAt int64) (string, error) {
	id, err := b.s.IDBefore(ctx, channelID, createAt)
	return id, translate(err)
}

func (b posts) IDAfter(ctx context.Context, channelID string, createAt int64) (string, error) {
	id, err := b.s.IDAfter(ctx, channelID, createAt)
	return id, translate(err)
}

// fromPostRows converts rows, or passes err on.
func fromPostRows(rows []*store.Post, err error) ([]*app.Post, error) {
	if err != nil {
		return nil, translate(err)
	}
	out := make([]*app.Post, len(rows))
	for i, r := range rows {
		if out[i], err = fromPostRow(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fromPostRow converts a row.
func fromPostRow(r *store.Post) (*app.Post, error) {
	props, err := decodeJSON[map[string]any](r.Props, "Props")
	if err != nil {
		return nil, err
	}
	files, err := decodeJSON[[]string](r.FileIDs, "FileIds")
	if err != nil {
		return nil, err
	}
	return &app.Post{
		ID: r.ID, CreateAt: r.CreateAt, UpdateAt: r.UpdateAt, EditAt: r.EditAt, DeleteAt: r.DeleteAt,
		IsPinned: r.IsPinned, UserID: r.UserID, ChannelID: r.ChannelID, RootID: r.RootID, OriginalID: r.OriginalID,
		Message: r.Message, Type: r.Type, Props: props, Hashtags: r.Hashtags, FileIDs: files, HasReactions: r.HasReactions,
	}, nil
}

var _ app.PostStore = posts{}
