package storetest

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/seed331fb32b/chorus/node/store"
)

// newSession returns a session of userID with every field set.
func newSession(userID string) *store.Session {
	return &store.Session{
		ID:             NewID(),
		Token:          NewID(),
		CreateAt:       1700000000000,
		ExpiresAt:      1700000000000 + 30*24*3600*1000,
		LastActivityAt: 1700000000001,
		UserID:         userID,
		DeviceID:       "device-1",
		Roles:          "system_user",
		IsOAuth:        true,
		ExpiredNotify:  true,
		Props:          `{"csrf":"` + NewID() + `"}`,
	}
}

// Sessions states the behaviour of the Sessions accessor.
func Sessions(t *testing.T, s *store.Store) {
	ss := s.Sessions()
	ctx := t.Context()

	t.Run("saved session is found by its token with every field", func(t *testing.T) {
		sess := newSession(NewID())
		if err := ss.Save(ctx, sess); err != nil {
			t.Fatal(err)
		}
		got, err := ss.GetByToken(ctx, sess.Token)
		if err != nil || !reflect.DeepEqual(got, sess) {
			t.Errorf("GetByToken = %+v, %v\nwant %+v", got, err, sess)
		}
	})
	t.Run("unknown token is ErrNotFound and the error does not show it", func(t *testing.T) {
		token := NewID()
		_, err := ss.GetByToken(ctx, token)
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetByToken: err = %v, want ErrNotFound", err)
		}
		if strings.Contains(err.Error(), token) {
			t.Errorf("error %q contains the token", err)
		}
	})
	t.Run("removed session is gone and removing it again succeeds", func(t *testing.T) {
		sess := newSession(NewID())
		if err := ss.Save(ctx, sess); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := ss.Remove(ctx, sess.ID); err != nil {
				t.Fatalf("Remove: %v", err)
			}
		}
		if _, err := ss.GetByToken(ctx, sess.Token); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetByToken after Remove: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("same id conflicts", func(t *testing.T) {
		sess := newSession(NewID())
		if err := ss.Save(ctx, sess); err != nil {
			t.Fatal(err)
		}
		again := newSession(NewID())
		again.ID = sess.ID
		var conflict *store.ConflictError
		if err := ss.Save(ctx, again); !errors.As(err, &conflict) || conflict.Table != "Sessions" {
			t.Errorf("Save: err = %v, want a *ConflictError on Sessions", err)
		}
	})
	t.Run("session without id or token is invalid", func(t *testing.T) {
		var invalid *store.InvalidError
		if err := ss.Save(ctx, &store.Session{Token: NewID()}); !errors.As(err, &invalid) {
			t.Errorf("Save without id: err = %v, want an *InvalidError", err)
		}
		if err := ss.Save(ctx, &store.Session{ID: NewID()}); !errors.As(err, &invalid) {
			t.Errorf("Save without token: err = %v, want an *InvalidError", err)
		}
	})
}
