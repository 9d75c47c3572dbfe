package storetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/seed331fb32b/chorus/node/store"
)

// System states the behaviour of the Systems accessor.
func System(t *testing.T, s *store.Store) {
	sys := s.System()
	ctx := t.Context()

	t.Run("get of a missing name returns ErrNotFound", func(t *testing.T) {
		_, err := sys.Get(ctx, "nope")
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("saved value is read back", func(t *testing.T) {
		if err := sys.SaveOrUpdate(ctx, "AdvancedPermissionsMigrationComplete", "true"); err != nil {
			t.Fatal(err)
		}
		got, err := sys.Get(ctx, "AdvancedPermissionsMigrationComplete")
		if err != nil || got != "true" {
			t.Fatalf("Get = %q, %v; want \"true\"", got, err)
		}
	})
	t.Run("saving an existing name replaces its value", func(t *testing.T) {
		for _, v := range []string{"1", "2", "3"} {
			if err := sys.SaveOrUpdate(ctx, "counter", v); err != nil {
				t.Fatal(err)
			}
		}
		got, err := sys.Get(ctx, "counter")
		if err != nil || got != "3" {
			t.Fatalf("Get = %q, %v; want \"3\"", got, err)
		}
	})
	t.Run("empty, long and non-ASCII values round-trip", func(t *testing.T) {
		for name, value := range map[string]string{
			"empty":   "",
			"long":    strings.Repeat("x", 60000), // Mattermost's MySQL text column holds 64 KiB
			"unicode": "héllo 🌍 世界",
			"name-of-64-bytes-" + strings.Repeat("n", 47): "max name length",
		} {
			if err := sys.SaveOrUpdate(ctx, name, value); err != nil {
				t.Fatalf("SaveOrUpdate(%.20q): %v", name, err)
			}
			got, err := sys.Get(ctx, name)
			if err != nil || got != value {
				t.Errorf("Get(%.20q) = %.20q, %v; want %.20q", name, got, err, value)
			}
		}
	})
	t.Run("deleted name is gone and deleting it again succeeds", func(t *testing.T) {
		if err := sys.SaveOrUpdate(ctx, "health_check_x", "1700000000"); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := sys.PermanentDeleteByName(ctx, "health_check_x"); err != nil {
				t.Fatalf("PermanentDeleteByName: %v", err)
			}
		}
		if _, err := sys.Get(ctx, "health_check_x"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get after delete: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("the schema version is recorded", func(t *testing.T) {
		got, err := sys.Get(ctx, store.SchemaVersionKey)
		if err != nil || got == "" {
			t.Fatalf("Get(%s) = %q, %v; want the schema version", store.SchemaVersionKey, got, err)
		}
	})
}

// ClosedStore states that every accessor fails with ErrClosed once the
// store is closed, and that closing twice is harmless.
func ClosedStore(t *testing.T, s *store.Store) {
	ctx := t.Context()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	calls := map[string]error{
		"System.SaveOrUpdate":          s.System().SaveOrUpdate(ctx, "a", "b"),
		"System.PermanentDeleteByName": s.System().PermanentDeleteByName(ctx, "a"),
		"Users.Save":                   s.Users().Save(ctx, &store.User{ID: NewID(), Username: "u"}),
		"Channels.Save":                s.Channels().Save(ctx, &store.Channel{ID: NewID()}),
		"Posts.Save":                   s.Posts().Save(ctx, &store.Post{ID: NewID(), ChannelID: NewID()}),
		"Recycle":                      s.Recycle(ctx, Settings(t, s.DriverName())),
		"Users.UpdateFailedAttempts":   s.Users().UpdateFailedAttempts(ctx, NewID(), 1),
		"Users.Update":                 s.Users().Update(ctx, &store.User{ID: NewID(), Username: "u"}),
		"Sessions.Save":                s.Sessions().Save(ctx, &store.Session{ID: NewID(), Token: NewID()}),
		"Sessions.Remove":              s.Sessions().Remove(ctx, NewID()),
		"Teams.Save":                   s.Teams().Save(ctx, &store.Team{ID: NewID()}),
		"Teams.SaveMember":             s.Teams().SaveMember(ctx, &store.TeamMember{TeamID: NewID(), UserID: NewID()}),
		"Channels.SaveMember":          s.Channels().SaveMember(ctx, &store.ChannelMember{ChannelID: NewID(), UserID: NewID()}),
		"Status.SaveOrUpdate":          s.Status().SaveOrUpdate(ctx, &store.Status{UserID: NewID()}),
	}
	channel := &store.Channel{ID: NewID()}
	calls["Channels.SaveWithMember"] = s.Channels().SaveWithMember(ctx, channel, &store.ChannelMember{ChannelID: channel.ID, UserID: NewID()})
	_, calls["System.Get"] = s.System().Get(ctx, "a")
	_, calls["Users.Get"] = s.Users().Get(ctx, NewID())
	_, calls["Users.Search"] = s.Users().Search(ctx, "a", 10)
	_, calls["Channels.Get"] = s.Channels().Get(ctx, NewID())
	_, calls["Posts.Get"] = s.Posts().Get(ctx, NewID())
	_, calls["Posts.GetPage"] = s.Posts().GetPage(ctx, NewID(), 0, 60)
	_, calls["Posts.GetBefore"] = s.Posts().GetBefore(ctx, NewID(), NewID(), 0, 60)
	_, calls["Posts.GetAfter"] = s.Posts().GetAfter(ctx, NewID(), NewID(), 0, 60)
	_, calls["Posts.GetSince"] = s.Posts().GetSince(ctx, NewID(), 0, 60)
	_, calls["Posts.GetThreads"] = s.Posts().GetThreads(ctx, []string{NewID()})
	_, calls["Posts.IDBefore"] = s.Posts().IDBefore(ctx, NewID(), 0)
	_, calls["Users.GetByUsername"] = s.Users().GetByUsername(ctx, "u")
	_, calls["Users.GetByEmail"] = s.Users().GetByEmail(ctx, "u@example.com")
	_, calls["Users.GetMany"] = s.Users().GetMany(ctx, []string{NewID()})
	_, calls["Users.Count"] = s.Users().Count(ctx)
	_, calls["Sessions.GetByToken"] = s.Sessions().GetByToken(ctx, NewID())
	_, calls["Teams.Get"] = s.Teams().Get(ctx, NewID())
	_, calls["Teams.GetForUser"] = s.Teams().GetForUser(ctx, NewID())
	_, calls["Teams.GetMember"] = s.Teams().GetMember(ctx, NewID(), NewID())
	_, calls["Teams.GetMemberIDs"] = s.Teams().GetMemberIDs(ctx, NewID())
	_, calls["Channels.GetByName"] = s.Channels().GetByName(ctx, NewID(), "x")
	_, calls["Channels.GetForTeamUser"] = s.Channels().GetForTeamUser(ctx, NewID(), NewID())
	_, calls["Channels.GetMember"] = s.Channels().GetMember(ctx, NewID(), NewID())
	_, calls["Channels.GetMemberIDs"] = s.Channels().GetMemberIDs(ctx, NewID())
	_, calls["Status.Get"] = s.Status().Get(ctx, NewID())
	_, calls["Status.GetMany"] = s.Status().GetMany(ctx, []string{NewID()})
	for name, err := range calls {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s on a closed store: err = %v, want ErrClosed", name, err)
		}
	}
	if st := s.Stats(); st != nil {
		t.Errorf("Stats on a closed store = %+v, want nil", st)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
