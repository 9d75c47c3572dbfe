package storetest

import (
	"errors"
	"reflect"
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
}
