package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/seed331fb32b/chorus/node/store"
)

// newTeam returns an open team named name with every field set.
func newTeam(name string) *store.Team {
	return &store.Team{
		ID:                 NewID(),
		CreateAt:           1700000000000,
		UpdateAt:           1700000000001,
		DisplayName:        "Team " + name + " ☕",
		Name:               name,
		Description:        "the description",
		Email:              name + "@example.com",
		Type:               "O",
		CompanyName:        "Example",
		AllowedDomains:     "example.com",
		InviteID:           NewID(),
		AllowOpenInvite:    true,
		LastTeamIconUpdate: 1700000000002,
		SchemeID:           NewID(),
		GroupConstrained:   true,
	}
}

// Teams states the behaviour of the Teams accessor: teams and their
// members.
func Teams(t *testing.T, s *store.Store) {
	ts := s.Teams()
	ctx := t.Context()

	t.Run("saved team is read back with every field", func(t *testing.T) {
		team := newTeam("core")
		if err := ts.Save(ctx, team); err != nil {
			t.Fatal(err)
		}
		got, err := ts.Get(ctx, team.ID)
		if err != nil || !reflect.DeepEqual(got, team) {
			t.Errorf("Get = %+v, %v\nwant %+v", got, err, team)
		}
	})
	t.Run("missing team is ErrNotFound", func(t *testing.T) {
		if _, err := ts.Get(ctx, NewID()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("a team name is unique", func(t *testing.T) {
		if err := ts.Save(ctx, newTeam("dup")); err != nil {
			t.Fatal(err)
		}
		var conflict *store.ConflictError
		if err := ts.Save(ctx, newTeam("dup")); !errors.As(err, &conflict) || conflict.Table != "Teams" {
			t.Errorf("Save of the same name: err = %v, want a *ConflictError on Teams", err)
		}
	})
	t.Run("saved member is read back and listed", func(t *testing.T) {
		team := newTeam("members")
		if err := ts.Save(ctx, team); err != nil {
			t.Fatal(err)
		}
		m := &store.TeamMember{TeamID: team.ID, UserID: NewID(), Roles: "custom", SchemeUser: true, SchemeAdmin: true, CreateAt: 1700000000000}
		gone := &store.TeamMember{TeamID: team.ID, UserID: NewID(), SchemeUser: true, DeleteAt: 1700000000009}
		for _, member := range []*store.TeamMember{m, gone} {
			if err := ts.SaveMember(ctx, member); err != nil {
				t.Fatal(err)
			}
		}
		got, err := ts.GetMember(ctx, team.ID, m.UserID)
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("GetMember = %+v, %v\nwant %+v", got, err, m)
		}
		ids, err := ts.GetMemberIDs(ctx, team.ID)
		if err != nil || !slices.Equal(ids, []string{m.UserID}) {
			t.Errorf("GetMemberIDs = %q, %v; want only the member not deleted, %s", ids, err, m.UserID)
		}
		var conflict *store.ConflictError
		if err := ts.SaveMember(ctx, m); !errors.As(err, &conflict) || conflict.Table != "TeamMembers" {
			t.Errorf("second SaveMember: err = %v, want a *ConflictError on TeamMembers", err)
		}
		if _, err := ts.GetMember(ctx, team.ID, NewID()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetMember of a stranger: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("a user's teams are those they are in, by display name", func(t *testing.T) {
		user := NewID()
		b, a, archived, left, other := newTeam("bbb"), newTeam("aaa"), newTeam("archived"), newTeam("left"), newTeam("other")
		b.DisplayName, a.DisplayName = "B", "A"
		archived.DeleteAt = 1700000000005
		for _, team := range []*store.Team{b, a, archived, left, other} {
			if err := ts.Save(ctx, team); err != nil {
				t.Fatal(err)
			}
		}
		for _, m := range []*store.TeamMember{
			{TeamID: b.ID, UserID: user}, {TeamID: a.ID, UserID: user}, {TeamID: archived.ID, UserID: user},
			{TeamID: left.ID, UserID: user, DeleteAt: 1700000000006}, {TeamID: other.ID, UserID: NewID()},
		} {
			if err := ts.SaveMember(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		got, err := ts.GetForUser(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, team := range got {
			names = append(names, team.Name)
		}
		if !slices.Equal(names, []string{"aaa", "bbb"}) {
			t.Errorf("GetForUser = %q, want [aaa bbb]", names)
		}
		if !reflect.DeepEqual(got[0], a) {
			t.Errorf("GetForUser()[0] = %+v\nwant %+v", got[0], a)
		}
	})
	t.Run("invalid arguments are rejected", func(t *testing.T) {
		var invalid *store.InvalidError
		if err := ts.Save(ctx, &store.Team{Name: "x"}); !errors.As(err, &invalid) {
			t.Errorf("Save without id: err = %v, want an *InvalidError", err)
		}
		if err := ts.SaveMember(ctx, &store.TeamMember{TeamID: NewID()}); !errors.As(err, &invalid) {
			t.Errorf("SaveMember without user: err = %v, want an *InvalidError", err)
		}
	})
}
