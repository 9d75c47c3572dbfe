package app

import (
	"context"
	"errors"
	"regexp"
	"unicode/utf8"
)

// Channel types, Mattermost's.
const (
	ChannelOpen    = "O"
	ChannelPrivate = "P"
	ChannelDirect  = "D"
	ChannelGroup   = "G"
)

// Channel is Mattermost's model.Channel, with its JSON names.
type Channel struct {
	ID                string         `json:"id"`
	CreateAt          int64          `json:"create_at"`
	UpdateAt          int64          `json:"update_at"`
	DeleteAt          int64          `json:"delete_at"`
	TeamID            string         `json:"team_id"`
	Type              string         `json:"type"`
	DisplayName       string         `json:"display_name"`
	Name              string         `json:"name"`
	Header            string         `json:"header"`
	Purpose           string         `json:"purpose"`
	LastPostAt        int64          `json:"last_post_at"`
	TotalMsgCount     int64          `json:"total_msg_count"`
	ExtraUpdateAt     int64          `json:"extra_update_at"`
	CreatorID         string         `json:"creator_id"`
	SchemeID          string         `json:"scheme_id"`
	Props             map[string]any `json:"props"`
	GroupConstrained  bool           `json:"group_constrained"`
	Shared            bool           `json:"shared"`
	TotalMsgCountRoot int64          `json:"total_msg_count_root"`
	LastRootPostAt    int64          `json:"last_root_post_at"`
}

// ChannelMember is Mattermost's model.ChannelMember. Roles is what clients
// read: ExplicitRoles plus the scheme roles (channel_user, channel_admin).
type ChannelMember struct {
	ChannelID          string            `json:"channel_id"`
	UserID             string            `json:"user_id"`
	Roles              string            `json:"roles"`
	LastViewedAt       int64             `json:"last_viewed_at"`
	MsgCount           int64             `json:"msg_count"`
	MentionCount       int64             `json:"mention_count"`
	MentionCountRoot   int64             `json:"mention_count_root"`
	UrgentMentionCount int64             `json:"urgent_mention_count"`
	MsgCountRoot       int64             `json:"msg_count_root"`
	NotifyProps        map[string]string `json:"notify_props"`
	LastUpdateAt       int64             `json:"last_update_at"`
	SchemeGuest        bool              `json:"scheme_guest"`
	SchemeUser         bool              `json:"scheme_user"`
	SchemeAdmin        bool              `json:"scheme_admin"`
	ExplicitRoles      string            `json:"explicit_roles"`
}

// withRoles returns a copy of m with Roles filled from its scheme flags.
func (m *ChannelMember) withRoles() *ChannelMember {
	c := *m
	c.Roles = joinRoles(m.ExplicitRoles, m.SchemeUser, RoleChannelUser, m.SchemeAdmin, RoleChannelAdmin)
	return &c
}

// defaultChannelNotifyProps are Mattermost's GetDefaultChannelNotifyProps.
func defaultChannelNotifyProps() map[string]string {
	return map[string]string{
		"desktop": "default", "email": "default", "mark_unread": "all", "push": "default",
		"ignore_channel_mentions": "default", "channel_auto_follow_threads": "off",
	}
}

// NewChannel is what a client sets on a new channel.
type NewChannel struct {
	TeamID      string
	Name        string
	DisplayName string
	Type        string
	Purpose     string
	Header      string
}

// validChannelName is Mattermost's IsValidChannelIdentifier: lower-case
// letters, digits, "-" and "_", starting and ending with a letter or digit.
var validChannelName = regexp.MustCompile(`^[a-z0-9]([a-z0-9\-_]*[a-z0-9])?$`)

// validateChannel checks c as Mattermost's Channel.IsValid does.
func validateChannel(c *Channel) error {
	invalid := func(field, msg string) error {
		return newError(KindInvalid, "model.channel.is_valid."+field+".app_error", msg, "")
	}
	switch {
	case !IsValidID(c.TeamID):
		return invalid("team_id", "Invalid team id.")
	case utf8.RuneCountInString(c.DisplayName) == 0 || utf8.RuneCountInString(c.DisplayName) > 64:
		return invalid("display_name", "Invalid display name.")
	case len(c.Name) > 64 || !validChannelName.MatchString(c.Name):
		return invalid("name", "Invalid channel name: lower-case letters, digits, \"-\" and \"_\".")
	case c.Type != ChannelOpen && c.Type != ChannelPrivate:
		return invalid("type", "Invalid type.")
	case utf8.RuneCountInString(c.Header) > 1024:
		return invalid("header", "Invalid header.")
	case utf8.RuneCountInString(c.Purpose) > 250:
		return invalid("purpose", "Invalid purpose.")
	}
	return nil
}

// CreateChannel makes an open ("O") or private ("P") channel in a team,
// as Mattermost's POST /api/v4/channels does: team members may
// (create_public_channel, create_private_channel), and the creator is its
// first member and a channel admin. Direct and group channels have their
// own routes, which Chorus does not implement.
func (a *App) CreateChannel(ctx context.Context, s *Session, nc NewChannel) (*Channel, error) {
	if nc.Type == ChannelDirect || nc.Type == ChannelGroup {
		return nil, newError(KindInvalid, "api.channel.create_channel.direct_channel.app_error",
			"Must use createDirectChannel API service for direct message channel creation.", "")
	}
	if !s.IsSystemAdmin() {
		permission := "create_public_channel"
		if nc.Type == ChannelPrivate {
			permission = "create_private_channel"
		}
		if !IsValidID(nc.TeamID) {
			return nil, invalidParam("team_id")
		}
		if ok, err := a.isTeamMember(ctx, nc.TeamID, s.UserID); err != nil {
			return nil, err
		} else if !ok {
			return nil, forbidden(s.UserID, permission)
		}
	}
	now := a.nowMillis()
	c := &Channel{
		ID: NewID(), CreateAt: now, UpdateAt: now, TeamID: nc.TeamID, Type: nc.Type,
		DisplayName: nc.DisplayName, Name: nc.Name, Header: nc.Header, Purpose: nc.Purpose, CreatorID: s.UserID,
	}
	if err := validateChannel(c); err != nil {
		return nil, err
	}
	if s.IsSystemAdmin() {
		if _, err := a.team(ctx, c.TeamID); err != nil {
			return nil, err
		}
	}
	m := &ChannelMember{ChannelID: c.ID, UserID: s.UserID, NotifyProps: defaultChannelNotifyProps(),
		LastViewedAt: now, LastUpdateAt: now, SchemeUser: true, SchemeAdmin: true}
	if err := a.stores.Channels.SaveWithMember(ctx, c, m); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, newError(KindConflict, "store.sql_channel.save_channel.exists.app_error",
				"A channel with that name already exists on the same team.", "name="+c.Name)
		}
		return nil, internal("app.channel.create_channel.internal_error", "saving the channel", err)
	}
	a.membersChanged(ctx, "c:"+c.ID)
	a.publish(ctx, Event{Name: EventChannelCreated, Data: map[string]any{"channel_id": c.ID, "team_id": c.TeamID},
		Broadcast: Broadcast{UserID: s.UserID}})
	return c, nil
}

// channel returns the channel of id, read now: 404
// app.channel.get.existing.app_error when there is none.
func (a *App) channel(ctx context.Context, id string) (*Channel, error) {
	c, err := a.stores.Channels.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, newError(KindNotFound, "app.channel.get.existing.app_error", "Unable to find the existing channel.", "channel_id="+id)
	}
	if err != nil {
		return nil, internal("app.channel.get.find.app_error", "getting the channel", err)
	}
	return c, nil
}

// cachedChannel is channel through the channel cache, for the fields that
// never change (type, team, names) and whether it is archived.
func (a *App) cachedChannel(ctx context.Context, id string) (*Channel, error) {
	if v, ok := a.channels.Get(id); ok {
		return v.(*Channel), nil
	}
	c, err := a.channel(ctx, id)
	if err != nil {
		return nil, err
	}
	a.channels.Set(id, c, 0)
	return c, nil
}

// canReadChannel reports whether s may read c: system admins, its members,
// and, for an open channel, the members of its team (read_public_channel).
func (a *App) canReadChannel(ctx context.Context, s *Session, c *Channel) (bool, error) {
	if s.IsSystemAdmin() {
		return true, nil
	}
	if ok, err := a.isChannelMember(ctx, c.ID, s.UserID); err != nil || ok {
		return ok, err
	}
	if c.Type == ChannelOpen {
		return a.isTeamMember(ctx, c.TeamID, s.UserID)
	}
	return false, nil
}

// GetChannel returns the channel of id, as Mattermost's
// GET /api/v4/channels/{id}: to those who may read it.
func (a *App) GetChannel(ctx context.Context, s *Session, id string) (*Channel, error) {
	c, err := a.channel(ctx, id)
	if err != nil {
		return nil, err
	}
	if ok, err := a.canReadChannel(ctx, s, c); err != nil {
		return nil, err
	} else if !ok {
		return nil, forbidden(s.UserID, "read_channel")
	}
	return c, nil
}

// AddChannelMember adds userID to the channel, as Mattermost's
// POST /api/v4/channels/{id}/members: a team member may join an open
// channel (join_public_channels); adding someone else takes being in the
// channel (manage_public_channel_members, manage_private_channel_members,
// both channel_user's); nobody joins a private channel by themselves. The
// user must be in the channel's team. Adding a member again returns the
// membership.
func (a *App) AddChannelMember(ctx context.Context, s *Session, channelID, userID string) (*ChannelMember, error) {
	c, err := a.channel(ctx, channelID)
	if err != nil {
		return nil, err
	}
	switch {
	case c.Type != ChannelOpen && c.Type != ChannelPrivate:
		return nil, newError(KindInvalid, "api.channel.add_user_to_channel.type.app_error", "Can not add user to this channel type.", "")
	case c.DeleteAt != 0:
		return nil, newError(KindInvalid, "api.channel.add_user.to.channel.failed.deleted.app_error",
			"Failed to add user to channel because they have been removed from the team.", "channel archived")
	}
	if !s.IsSystemAdmin() {
		if err := a.checkAddChannelMember(ctx, s, c, userID); err != nil {
			return nil, err
		}
	}
	u, err := a.user(ctx, userID)
	if err != nil {
		return nil, err
	}
	if ok, err := a.isTeamMember(ctx, c.TeamID, u.ID); err != nil {
		return nil, err
	} else if !ok {
		return nil, newError(KindNotFound, "app.team.get_member.missing.app_error",
			"No team member found for that user ID and team ID.", "user_id="+u.ID+", team_id="+c.TeamID)
	}
	m, err := a.joinChannel(ctx, c, u.ID, false)
	if err != nil {
		return nil, err
	}
	return m.withRoles(), nil
}

// checkAddChannelMember applies AddChannelMember's permissions for a user
// who is not a system admin.
func (a *App) checkAddChannelMember(ctx context.Context, s *Session, c *Channel, userID string) error {
	if c.Type == ChannelOpen && userID == s.UserID {
		if ok, err := a.isTeamMember(ctx, c.TeamID, s.UserID); err != nil {
			return err
		} else if !ok {
			return forbidden(s.UserID, "join_public_channels")
		}
		return nil
	}
	permission := "manage_public_channel_members"
	if c.Type == ChannelPrivate {
		permission = "manage_private_channel_members"
	}
	if ok, err := a.isChannelMember(ctx, c.ID, s.UserID); err != nil {
		return err
	} else if !ok {
		return forbidden(s.UserID, permission)
	}
	return nil
}

// joinChannel makes userID a member of c (an admin when admin) and tells
// the channel. An existing membership is returned as is.
func (a *App) joinChannel(ctx context.Context, c *Channel, userID string, admin bool) (*ChannelMember, error) {
	existing, err := a.stores.Channels.GetMember(a.master(ctx), c.ID, userID)
	if err == nil {
		return existing, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, internal("app.channel.get_member.app_error", "getting the channel member", err)
	}
	now := a.nowMillis()
	m := &ChannelMember{ChannelID: c.ID, UserID: userID, NotifyProps: defaultChannelNotifyProps(),
		LastViewedAt: now, LastUpdateAt: now, SchemeUser: true, SchemeAdmin: admin}
	if err := a.stores.Channels.SaveMember(ctx, m); err != nil {
		if errors.Is(err, ErrConflict) { // joined concurrently
			if existing, err := a.stores.Channels.GetMember(a.master(ctx), c.ID, userID); err == nil {
				return existing, nil
			}
		}
		return nil, internal("app.channel.save_member.save.app_error", "saving the channel member", err)
	}
	a.membersChanged(ctx, "c:"+c.ID)
	a.publish(ctx, Event{Name: EventUserAdded, Data: map[string]any{"user_id": userID, "team_id": c.TeamID},
		Broadcast: Broadcast{ChannelID: c.ID}})
	return m, nil
}

// GetChannelsForTeamUser returns the channels of teamID that userID is in,
// as Mattermost's GET /api/v4/users/{user_id}/teams/{team_id}/channels: to
// that user when they are in the team, and to system admins.
func (a *App) GetChannelsForTeamUser(ctx context.Context, s *Session, teamID, userID string) ([]*Channel, error) {
	if !s.IsSystemAdmin() {
		if userID != s.UserID {
			return nil, forbidden(s.UserID, "edit_other_users")
		}
		if ok, err := a.isTeamMember(ctx, teamID, s.UserID); err != nil {
			return nil, err
		} else if !ok {
			return nil, forbidden(s.UserID, "view_team")
		}
	}
	channels, err := a.stores.Channels.GetForTeamUser(ctx, teamID, userID)
	if err != nil {
		return nil, internal("app.channel.get_channels.get.app_error", "getting the user's channels", err)
	}
	if channels == nil {
		channels = []*Channel{}
	}
	return channels, nil
}

// UserTyping tells the other members of a channel that userID is typing (in the thread parentID, or "" for the channel), as
// Mattermost's user_typing WebSocket action: a typing event with
// {parent_id, user_id} to the channel, not to the typist. A bad channel id,
// or one the user may not post in, is the same invalid-parameter error, so
// that channels are not probed.
func (a *App) UserTyping(ctx context.Context, userID, channelID, parentID string) error {
	invalid := newError(KindInvalid, "api.websocket_handler.invalid_param.app_error", "Invalid channel_id parameter.", "")
	if !IsValidID(channelID) {
		return invalid
	}
	if ok, err := a.isChannelMember(ctx, channelID, userID); err != nil {
		return err
	} else if !ok {
		return invalid
	}
	a.publish(ctx, Event{
		Name:      EventTyping,
		Data:      map[string]any{"parent_id": parentID, "user_id": userID},
		Broadcast: Broadcast{ChannelID: channelID, OmitUsers: map[string]bool{userID: true}},
	})
	return nil
}
