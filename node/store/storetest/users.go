package storetest

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/seed331fb32b/chorus/node/store"
)

// newUser returns a user with every field set, named username.
func newUser(username string) *store.User {
	return &store.User{
		ID:                 NewID(),
		CreateAt:           1700000000000,
		UpdateAt:           1700000000001,
		Username:           username,
		Password:           "$2a$10$abcdefghijklmnopqrstuv",
		AuthService:        "",
		Email:              username + "@example.com",
		EmailVerified:      true,
		Nickname:           "nick " + username,
		FirstName:          "Zoë",
		LastName:           "Ødegård",
		Position:           "engineer",
		Roles:              "system_user",
		AllowMarketing:     true,
		Props:              `{"customStatus":""}`,
		NotifyProps:        `{"desktop":"mention","email":"true"}`,
		Timezone:           `{"automaticTimezone":"","manualTimezone":"","useAutomaticTimezone":"true"}`,
		LastPasswordUpdate: 1700000000002,
		LastPictureUpdate:  1700000000003,
		FailedAttempts:     2,
		Locale:             "fr",
		MfaActive:          true,
		MfaSecret:          "secret",
	}
}

// Users states the behaviour of the Users accessor.
func Users(t *testing.T, s *store.Store) {
	us := s.Users()
	ctx := t.Context()

	t.Run("saved user is read back with every field", func(t *testing.T) {
		u := newUser("alice")
		if err := us.Save(ctx, u); err != nil {
			t.Fatal(err)
		}
		got, err := us.Get(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, u) {
			t.Errorf("Get = %+v\nwant %+v", got, u)
		}
	})
	t.Run("zero-valued fields round-trip", func(t *testing.T) {
		u := &store.User{ID: NewID(), Username: "zero", Email: "zero@example.com"}
		if err := us.Save(ctx, u); err != nil {
			t.Fatal(err)
		}
		got, err := us.Get(ctx, u.ID)
		if err != nil || !reflect.DeepEqual(got, u) {
			t.Errorf("Get = %+v, %v\nwant %+v", got, err, u)
		}
	})
	t.Run("missing user is ErrNotFound", func(t *testing.T) {
		if _, err := us.Get(ctx, NewID()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("duplicates conflict", func(t *testing.T) {
		first := newUser("bob")
		if err := us.Save(ctx, first); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name   string
			modify func(u *store.User)
		}{
			{"same id", func(u *store.User) { u.ID = first.ID; u.Username, u.Email = "bob2", "bob2@example.com" }},
			{"same username", func(u *store.User) { u.Email = "other@example.com" }},
			{"same email", func(u *store.User) { u.Username = "bob3"; u.Email = first.Email }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				u := newUser("bob")
				tt.modify(u)
				err := us.Save(ctx, u)
				var conflict *store.ConflictError
				if !errors.As(err, &conflict) {
					t.Fatalf("Save: err = %v, want a *ConflictError", err)
				}
				if conflict.Table != "Users" || conflict.ID != u.ID {
					t.Errorf("ConflictError = %+v, want table Users, id %s", conflict, u.ID)
				}
			})
		}
	})
	t.Run("user without id is invalid", func(t *testing.T) {
		var invalid *store.InvalidError
		if err := us.Save(ctx, &store.User{Username: "noid"}); !errors.As(err, &invalid) {
			t.Errorf("Save: err = %v, want an *InvalidError", err)
		}
	})
	t.Run("search matches username prefixes of active users in order", func(t *testing.T) {
		for _, name := range []string{"sam", "samantha", "sa_m", "samuel", "isam", "sa%x"} {
			if err := us.Save(ctx, newUser(name)); err != nil {
				t.Fatal(err)
			}
		}
		deleted := newUser("samdeleted")
		deleted.DeleteAt = 1700000000999
		if err := us.Save(ctx, deleted); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			prefix string
			limit  int
			want   []string
		}{
			{"sam", 10, []string{"sam", "samantha", "samuel"}},
			{"SAM", 10, []string{"sam", "samantha", "samuel"}},
			{"sam", 2, []string{"sam", "samantha"}},
			{"sa_", 10, []string{"sa_m"}}, // "_" is not a wildcard
			{"sa%", 10, []string{"sa%x"}}, // nor is "%"
			{"zz", 10, nil},
		}
		for _, tt := range tests {
			got, err := us.Search(ctx, tt.prefix, tt.limit)
			if err != nil {
				t.Fatalf("Search(%q): %v", tt.prefix, err)
			}
			var names []string
			for _, u := range got {
				names = append(names, u.Username)
			}
			if !reflect.DeepEqual(names, tt.want) {
				t.Errorf("Search(%q, %d) = %q, want %q", tt.prefix, tt.limit, names, tt.want)
			}
		}
	})
	t.Run("long JSON props round-trip", func(t *testing.T) {
		u := newUser("props")
		u.Props = `{"x":"` + strings.Repeat("é", 20000) + `"}`
		if err := us.Save(ctx, u); err != nil {
			t.Fatal(err)
		}
		got, err := us.Get(ctx, u.ID)
		if err != nil || got.Props != u.Props {
			t.Errorf("Props did not round-trip (err %v)", err)
		}
	})
	t.Run("a user is found by username and by email", func(t *testing.T) {
		u := newUser("findme")
		if err := us.Save(ctx, u); err != nil {
			t.Fatal(err)
		}
		if got, err := us.GetByUsername(ctx, "findme"); err != nil || !reflect.DeepEqual(got, u) {
			t.Errorf("GetByUsername = %+v, %v", got, err)
		}
		if got, err := us.GetByEmail(ctx, "findme@example.com"); err != nil || !reflect.DeepEqual(got, u) {
			t.Errorf("GetByEmail = %+v, %v", got, err)
		}
		if _, err := us.GetByUsername(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetByUsername of nobody: err = %v, want ErrNotFound", err)
		}
		if _, err := us.GetByEmail(ctx, "nobody@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetByEmail of nobody: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("many users are read at once, missing ones left out", func(t *testing.T) {
		a, b := newUser("many-a"), newUser("many-b")
		for _, u := range []*store.User{a, b} {
			if err := us.Save(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		got, err := us.GetMany(ctx, []string{b.ID, NewID(), a.ID})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range got {
			names = append(names, u.Username)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"many-a", "many-b"}) {
			t.Errorf("GetMany = %q", names)
		}
		var invalid *store.InvalidError
		if _, err := us.GetMany(ctx, make([]string, store.MaxIDs+1)); !errors.As(err, &invalid) {
			t.Errorf("GetMany of too many ids: err = %v, want an *InvalidError", err)
		}
	})
	t.Run("update writes the profile fields and nothing else", func(t *testing.T) {
		u := newUser("patchme")
		if err := us.Save(ctx, u); err != nil {
			t.Fatal(err)
		}
		changed := *u
		changed.UpdateAt = u.UpdateAt + 1000
		changed.Username = "patched"
		changed.Email = "patched@example.com"
		changed.EmailVerified = false
		changed.Nickname = "Nick ✓"
		changed.FirstName = "Åsa"
		changed.LastName = "Ng"
		changed.Position = "lead"
		changed.Props = `{"a":"b"}`
		changed.NotifyProps = `{"email":"false"}`
		changed.Timezone = `{"useAutomaticTimezone":"false","manualTimezone":"Europe/Oslo"}`
		changed.Locale = "de"
		// Fields a profile update must leave alone.
		changed.CreateAt = 1
		changed.DeleteAt = 2
		changed.Password = "other-hash"
		changed.Roles = "system_admin system_user"
		changed.AuthService = "gitlab"
		changed.AllowMarketing = false
		changed.LastPasswordUpdate = 3
		changed.LastPictureUpdate = 4
		changed.FailedAttempts = 9
		changed.MfaActive = false
		changed.MfaSecret = "other"
		if err := us.Update(ctx, &changed); err != nil {
			t.Fatal(err)
		}
		want := *u
		want.UpdateAt, want.Username, want.Email, want.EmailVerified = changed.UpdateAt, changed.Username, changed.Email, false
		want.Nickname, want.FirstName, want.LastName, want.Position = changed.Nickname, changed.FirstName, changed.LastName, changed.Position
		want.Props, want.NotifyProps, want.Timezone, want.Locale = changed.Props, changed.NotifyProps, changed.Timezone, changed.Locale
		got, err := us.Get(store.WithMaster(ctx), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("after Update: %+v\nwant %+v", got, &want)
		}
		if _, err := us.GetByUsername(ctx, "patchme"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("old username still found: err = %v", err)
		}
		if got, err := us.GetByEmail(ctx, "patched@example.com"); err != nil || got.ID != u.ID {
			t.Errorf("GetByEmail of the new email = %+v, %v", got, err)
		}
	})
	t.Run("an update that changes nothing succeeds", func(t *testing.T) {
		u := newUser("samesame")
		if err := us.Save(ctx, u); err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second write changes no column (MySQL reports 0 rows)
			if err := us.Update(ctx, u); err != nil {
				t.Fatalf("Update: %v", err)
			}
		}
	})
	t.Run("update of a missing user is ErrNotFound", func(t *testing.T) {
		u := newUser("ghost")
		if err := us.Update(ctx, u); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Update: err = %v, want ErrNotFound", err)
		}
		var invalid *store.InvalidError
		if err := us.Update(ctx, &store.User{Username: "noid"}); !errors.As(err, &invalid) {
			t.Errorf("Update without id: err = %v, want an *InvalidError", err)
		}
	})
	t.Run("update to another user's username or email conflicts", func(t *testing.T) {
		owner, mover := newUser("taken"), newUser("mover")
		for _, u := range []*store.User{owner, mover} {
			if err := us.Save(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			name   string
			modify func(u *store.User)
		}{
			{"username", func(u *store.User) { u.Username = owner.Username }},
			{"email", func(u *store.User) { u.Email = owner.Email }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				u := *mover
				tt.modify(&u)
				err := us.Update(ctx, &u)
				var conflict *store.ConflictError
				if !errors.As(err, &conflict) || conflict.Table != "Users" || conflict.ID != mover.ID {
					t.Fatalf("Update: err = %v, want a *ConflictError on Users %s", err, mover.ID)
				}
				if got, err := us.Get(ctx, mover.ID); err != nil || !reflect.DeepEqual(got, mover) {
					t.Errorf("after a refused update: %+v, %v\nwant %+v", got, err, mover)
				}
			})
		}
	})
	t.Run("count includes deleted users and failed attempts are updated", func(t *testing.T) {
		before, err := us.Count(ctx)
		if err != nil {
			t.Fatal(err)
		}
		u := newUser("counted")
		u.DeleteAt = 1700000000000
		if err := us.Save(ctx, u); err != nil {
			t.Fatal(err)
		}
		if after, err := us.Count(ctx); err != nil || after != before+1 {
			t.Errorf("Count = %d, %v; want %d", after, err, before+1)
		}
		if err := us.UpdateFailedAttempts(ctx, u.ID, 7); err != nil {
			t.Fatal(err)
		}
		if got, err := us.Get(ctx, u.ID); err != nil || got.FailedAttempts != 7 {
			t.Errorf("FailedAttempts = %d (%v), want 7", got.FailedAttempts, err)
		}
	})
}
