package bind

import (
	"context"

	"github.com/seed331fb32b/chorus/node/app"
	"github.com/seed331fb32b/chorus/node/store"
)

// channels adapts store.ChannelStore to app.ChannelStore. Channel props
// have no column: they are not kept.
type channels struct{ s *store.ChannelStore }

func (b channels) Save(ctx context.Context, c *app.Channel) error {
	return translate(b.s.Save(ctx, channelRow(c)))
}

func (b channels) SaveWithMember(ctx context.Context, c *app.Channel, m *app.ChannelMember) error {
	row, err := channelMemberRow(m)
	if err != nil {
		return err
	}
	return translate(b.s.SaveWithMember(ctx, channelRow(c), row))
}

func (b channels) Get(ctx context.Context, id string) (*app.Channel, error) {
	r, err := b.s.Get(ctx, id)
	if err != nil {
		return nil, translate(err)
	}
	return fromChannelRow(r), nil
}

func (b channels) GetByName(ctx context.Context, teamID, name string) (*app.Channel, error) {
	r, err := b.s.GetByName(ctx, teamID, name)
	if err != nil {
		return nil, translate(err)
	}
	return fromChannelRow(r), nil
}

func (b channels) GetForTeamUser(ctx context.Context, teamID, userID string) ([]*app.Channel, error) {
	rows, err := b.s.GetForTeamUser(ctx, teamID, userID)
	if err != nil {
		return nil, translate(err)
	}
	out := make([]*app.Channel, len(rows))
	for i, r := range rows {
		out[i] = fromChannelRow(r)
	}
	return out, nil
}

func (b channels) SaveMember(ctx context.Context, m *app.ChannelMember) error {
	row, err := channelMemberRow(m)
	if err != nil {
		return err
	}
	return translate(b.s.SaveMember(ctx, row))
}

func (b channels) GetMember(ctx context.Context, channelID, userID string) (*app.ChannelMember, error) {
	r, err := b.s.GetMember(ctx, channelID, userID)
	if err != nil {
		return nil, translate(err)
	}
	notify, err := decodeJSON[map[string]string](r.NotifyProps, "NotifyProps")
	if err != nil {
		return nil, err
	}
	return &app.ChannelMember{
		ChannelID: r.ChannelID, UserID: r.UserID, ExplicitRoles: r.Roles, LastViewedAt: r.LastViewedAt,
		MsgCount: r.MsgCount, MentionCount: r.MentionCount, MentionCountRoot: r.MentionCountRoot,
		UrgentMentionCount: r.UrgentMentionCount, MsgCountRoot: r.MsgCountRoot, NotifyProps: notify,
		LastUpdateAt: r.LastUpdateAt, SchemeGuest: r.SchemeGuest, SchemeUser: r.SchemeUser, SchemeAdmin: r.SchemeAdmin,
	}, nil
}

func (b channels) GetMemberIDs(ctx context.Context, channelID string) ([]string, error) {
	ids, err := b.s.GetMemberIDs(ctx, channelID)
	return ids, translate(err)
}

// channelRow converts an app channel to its row.
func channelRow(c *app.Channel) *store.Channel {
	return &store.Channel{
		ID: c.ID, CreateAt: c.CreateAt, UpdateAt: c.UpdateAt, DeleteAt: c.DeleteAt, TeamID: c.TeamID, Type: c.Type,
		DisplayName: c.DisplayName, Name: c.Name, Header: c.Header, Purpose: c.Purpose, LastPostAt: c.LastPostAt,
		TotalMsgCount: c.TotalMsgCount, ExtraUpdateAt: c.ExtraUpdateAt, CreatorID: c.CreatorID, SchemeID: c.SchemeID,
		GroupConstrained: c.GroupConstrained, Shared: c.Shared, TotalMsgCountRoot: c.TotalMsgCountRoot,
		LastRootPostAt: c.LastRootPostAt,
	}
}

// fromChannelRow converts a row.
func fromChannelRow(r *store.Channel) *app.Channel {
	return &app.Channel{
		ID: r.ID, CreateAt: r.CreateAt, UpdateAt: r.UpdateAt, DeleteAt: r.DeleteAt, TeamID: r.TeamID, Type: r.Type,
		DisplayName: r.DisplayName, Name: r.Name, Header: r.Header, Purpose: r.Purpose, LastPostAt: r.LastPostAt,
		TotalMsgCount: r.TotalMsgCount, ExtraUpdateAt: r.ExtraUpdateAt, CreatorID: r.CreatorID, SchemeID: r.SchemeID,
		GroupConstrained: r.GroupConstrained, Shared: r.Shared, TotalMsgCountRoot: r.TotalMsgCountRoot,
		LastRootPostAt: r.LastRootPostAt,
	}
}

// channelMemberRow converts an app channel member to its row.
func channelMemberRow(m *app.ChannelMember) (*store.ChannelMember, error) {
	notify, err := encodeJSON(m.NotifyProps, "{}")
	if err != nil {
		return nil, err
	}
	return &store.ChannelMember{
		ChannelID: m.ChannelID, UserID: m.UserID, Roles: m.ExplicitRoles, LastViewedAt: m.LastViewedAt,
		MsgCount: m.MsgCount, MentionCount: m.MentionCount, MentionCountRoot: m.MentionCountRoot,
		MsgCountRoot: m.MsgCountRoot, UrgentMentionCount: m.UrgentMentionCount, NotifyProps: notify,
		LastUpdateAt: m.LastUpdateAt, SchemeUser: m.SchemeUser, SchemeAdmin: m.SchemeAdmin, SchemeGuest: m.SchemeGuest,
	}, nil
}

var _ app.ChannelStore = channels{}
