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
