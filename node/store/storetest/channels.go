package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/seed331fb32b/chorus/node/store"
)

// newChannel returns an open channel of team with every field set.
func newChannel(teamID, name string) *store.Channel {
	return &store.Channel{
		ID:                NewID(),
		CreateAt:          1700000000000,
		UpdateAt:          1700000000001,
		TeamID:            teamID,
		Type:              "O",
		DisplayName:       "Town Square ☕",
		Name:              name,
		Header:            "the header",
		Purpose:           "the purpose",
		LastPostAt:        1700000000002,
		TotalMsgCount:     3,
		ExtraUpdateAt:     1700000000004,
		CreatorID:         NewID(),
		SchemeID:          NewID(),
		GroupConstrained:  true,
		Shared:            true,
		TotalMsgCountRoot: 2,
		LastRootPostAt:    1700000000002,
	}
}

// Channels states the behaviour of the Channels accessor.
func Channels(t *testing.T, s *store.Store) {
	cs := s.Channels()
	ctx := t.Context()
	team := NewID()

	t.Run("saved channel is read back with every field", func(t *testing.T) {
		c := newChannel(team, "town-square")
		if err := cs.Save(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, err := cs.Get(ctx, c.ID)
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("Get = %+v, %v\nwant %+v", got, err, c)
		}
	})
	t.Run("missing channel is ErrNotFound", func(t *testing.T) {
		if _, err := cs.Get(ctx, NewID()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("a name is unique within a team only", func(t *testing.T) {
		if err := cs.Save(ctx, newChannel(team, "off-topic")); err != nil {
			t.Fatal(err)
		}
		var conflict *store.ConflictError
		if err := cs.Save(ctx, newChannel(team, "off-topic")); !errors.As(err, &conflict) {
			t.Errorf("same name in the same team: err = %v, want a *ConflictError", err)
		}
		if err := cs.Save(ctx, newChannel(NewID(), "off-topic")); err != nil {
			t.Errorf("same name in another team: %v", err)
		}
	})
	t.Run("same id conflicts", func(t *testing.T) {
		c := newChannel(team, "first")
		if err := cs.Save(ctx, c); err != nil {
			t.Fatal(err)
		}
		again := newChannel(team, "second")
		again.ID = c.ID
		var conflict *store.ConflictError
		if err := cs.Save(ctx, again); !errors.As(err, &conflict) || conflict.Table != "Channels" {
			t.Errorf("Save: err = %v, want a *ConflictError on Channels", err)
		}
	})
	t.Run("channel without id is invalid", func(t *testing.T) {
		var invalid *store.InvalidError
		if err := cs.Save(ctx, &store.Channel{Name: "x"}); !errors.As(err, &invalid) {
			t.Errorf("Save: err = %v, want an *InvalidError", err)
		}
	})
	t.Run("a channel is found by team and name", func(t *testing.T) {
		c := newChannel(team, "by-name")
		if err := cs.Save(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, err := cs.GetByName(ctx, team, "by-name")
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("GetByName = %+v, %v\nwant %+v", got, err, c)
		}
		if _, err := cs.GetByName(ctx, NewID(), "by-name"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetByName in another team: err = %v, want ErrNotFound", err)
		}
	})
	ChannelMembers(t, s)
}

// newChannelMember returns a membership of userID in channelID with every
// field set.
func newChannelMember(channelID, userID string) *store.ChannelMember {
	return &store.ChannelMember{
		ChannelID:          channelID,
		UserID:             userID,
		Roles:              "custom",
		LastViewedAt:       1700000000000,
		MsgCount:           3,
		MentionCount:       2,
		MentionCountRoot:   1,
		MsgCountRoot:       2,
		UrgentMentionCount: 1,
		NotifyProps:        `{"desktop":"default","mark_unread":"all"}`,
		LastUpdateAt:       1700000000001,
		SchemeUser:         true,
		SchemeAdmin:        true,
	}
}

// ChannelMembers states the behaviour of the Channels accessor's
// membership methods.
func ChannelMembers(t *testing.T, s *store.Store) {
	cs := s.Channels()
	ctx := t.Context()
	team := NewID()

	t.Run("a channel saved with its creator has that member", func(t *testing.T) {
		c := newChannel(team, "with-creator")
		m := newChannelMember(c.ID, c.CreatorID)
		if err := cs.SaveWithMember(ctx, c, m); err != nil {
			t.Fatal(err)
		}
		if got, err := cs.Get(ctx, c.ID); err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("Get = %+v, %v\nwant %+v", got, err, c)
		}
		if got, err := cs.GetMember(ctx, c.ID, c.CreatorID); err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("GetMember = %+v, %v\nwant %+v", got, err, m)
		}
	})
	t.Run("a conflicting channel saves neither channel nor member", func(t *testing.T) {
		if err := cs.Save(ctx, newChannel(team, "taken")); err != nil {
			t.Fatal(err)
		}
		c := newChannel(team, "taken")
		var conflict *store.ConflictError
		if err := cs.SaveWithMember(ctx, c, newChannelMember(c.ID, c.CreatorID)); !errors.As(err, &conflict) || conflict.Table != "Channels" {
			t.Fatalf("SaveWithMember: err = %v, want a *ConflictError on Channels", err)
		}
		if _, err := cs.GetMember(ctx, c.ID, c.CreatorID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the member of a rejected channel was saved: err = %v", err)
		}
	})
	t.Run("members are listed and saved once", func(t *testing.T) {
		c := newChannel(team, "members")
		if err := cs.Save(ctx, c); err != nil {
			t.Fatal(err)
		}
		want := []string{NewID(), NewID(), NewID()}
		for _, u := range want {
			if err := cs.SaveMember(ctx, newChannelMember(c.ID, u)); err != nil {
				t.Fatal(err)
			}
		}
		var conflict *store.ConflictError
		if err := cs.SaveMember(ctx, newChannelMember(c.ID, want[0])); !errors.As(err, &conflict) || conflict.Table != "ChannelMembers" {
			t.Errorf("second SaveMember: err = %v, want a *ConflictError on ChannelMembers", err)
		}
		got, err := cs.GetMemberIDs(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("GetMemberIDs = %q, want %q", got, want)
		}
		if _, err := cs.GetMember(ctx, c.ID, NewID()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetMember of a stranger: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("a user's channels in a team are those they are in, by display name", func(t *testing.T) {
		user := NewID()
		b, a, archived, notIn, otherTeam := newChannel(team, "bb"), newChannel(team, "aa"), newChannel(team, "archived"),
			newChannel(team, "not-in"), newChannel(NewID(), "elsewhere")
		b.DisplayName, a.DisplayName = "B", "A"
		archived.DeleteAt = 1700000000005
		for _, c := range []*store.Channel{b, a, archived, notIn, otherTeam} {
			if err := cs.Save(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []*store.Channel{b, a, archived, otherTeam} {
			if err := cs.SaveMember(ctx, newChannelMember(c.ID, user)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := cs.GetForTeamUser(ctx, team, user)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range got {
			names = append(names, c.Name)
		}
		if !slices.Equal(names, []string{"aa", "bb"}) {
			t.Errorf("GetForTeamUser = %q, want [aa bb]", names)
		}
		if len(got) > 0 && !reflect.DeepEqual(got[0], a) {
			t.Errorf("GetForTeamUser()[0] = %+v\nwant %+v", got[0], a)
		}
	})
	t.Run("invalid members are rejected", func(t *testing.T) {
		var invalid *store.InvalidError
		c := newChannel(team, "invalid")
		if err := cs.SaveWithMember(ctx, c, newChannelMember(NewID(), NewID())); !errors.As(err, &invalid) {
			t.Errorf("SaveWithMember of another channel's member: err = %v, want an *InvalidError", err)
		}
		if err := cs.SaveMember(ctx, &store.ChannelMember{ChannelID: c.ID}); !errors.As(err, &invalid) {
			t.Errorf("SaveMember without user: err = %v, want an *InvalidError", err)
		}
	})
}
