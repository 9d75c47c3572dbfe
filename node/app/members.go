package app

import (
	"context"
	"errors"
)

// This file holds the membership snapshots: who is in a channel or a team,
// cached for memberCacheTTL. The WebSocket hub asks for them once per
// event it delivers to a channel ([App.ChannelMembers] and
// [App.TeamMembers] make the App a ws.Membership), and permission checks
// read them before the database.

// ChannelMembers returns the user ids of channelID's members as a set.
// The set is a snapshot shared with other callers and never modified: the
// caller must not modify it. It is read from the database at most once
// per memberCacheTTL, and again at once after a member is added on this
// node.
func (a *App) ChannelMembers(ctx context.Context, channelID string) (map[string]struct{}, error) {
	return a.memberSet(ctx, "c:"+channelID, func(ctx context.Context) ([]string, error) {
		return a.stores.Channels.GetMemberIDs(ctx, channelID)
	})
}

// TeamMembers returns the user ids of teamID's active members as a set,
// on the terms of [App.ChannelMembers].
func (a *App) TeamMembers(ctx context.Context, teamID string) (map[string]struct{}, error) {
	return a.memberSet(ctx, "t:"+teamID, func(ctx context.Context) ([]string, error) {
		return a.stores.Teams.GetMemberIDs(ctx, teamID)
	})
}

// memberSet returns the cached snapshot of key, loading it when missing.
// Two callers missing at once both load; the later snapshot wins, and
// both are correct.
func (a *App) memberSet(ctx context.Context, key string, load func(context.Context) ([]string, error)) (map[string]struct{}, error) {
	if v, ok := a.members.Get(key); ok {
		return v.(map[string]struct{}), nil
	}
	ids, err := load(ctx)
	if err != nil {
		return nil, internal("app.channel.get_members.app_error", "getting members", err)
	}
	set := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		set[id] = struct{}{}
	}
	a.members.Set(key, set, 0)
	return set, nil
}

// forgetMembers drops the snapshot of key after a membership change on
// this node.
func (a *App) forgetMembers(key string) { a.members.Delete(key) }

// isChannelMember reports whether userID is in channelID. The snapshot
// answers yes at once; a no is checked on the master, since the snapshot
// may predate a join made on another node.
func (a *App) isChannelMember(ctx context.Context, channelID, userID string) (bool, error) {
	set, err := a.ChannelMembers(ctx, channelID)
	if err != nil {
		return false, err
	}
	if _, ok := set[userID]; ok {
		return true, nil
	}
	_, err = a.stores.Channels.GetMember(a.master(ctx), channelID, userID)
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case err != nil:
		return false, internal("app.channel.get_member.app_error", "getting the channel member", err)
	}
	a.forgetMembers("c:" + channelID)
	return true, nil
}

// isTeamMember reports whether userID is an active member of teamID, on
// the terms of isChannelMember.
func (a *App) isTeamMember(ctx context.Context, teamID, userID string) (bool, error) {
	set, err := a.TeamMembers(ctx, teamID)
	if err != nil {
		return false, err
	}
	if _, ok := set[userID]; ok {
		return true, nil
	}
	m, err := a.stores.Teams.GetMember(a.master(ctx), teamID, userID)
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case err != nil:
		return false, internal("app.team.get_member.app_error", "getting the team member", err)
	case m.DeleteAt != 0:
		return false, nil
	}
	a.forgetMembers("t:" + teamID)
	return true, nil
}
