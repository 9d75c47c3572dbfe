package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/seed331fb32b/chorus/node/store"
)

// Statuses states the behaviour of the Status accessor.
func Statuses(t *testing.T, s *store.Store) {
	ss := s.Status()
	ctx := t.Context()

	t.Run("saved status is read back and replaced by the next save", func(t *testing.T) {
		st := &store.Status{UserID: NewID(), Status: "dnd", Manual: true, LastActivityAt: 1700000000000, DNDEndTime: 1700000999, PrevStatus: "online"}
		if err := ss.SaveOrUpdate(ctx, st); err != nil {
			t.Fatal(err)
		}
		got, err := ss.Get(ctx, st.UserID)
		if err != nil || !reflect.DeepEqual(got, st) {
			t.Fatalf("Get = %+v, %v\nwant %+v", got, err, st)
		}
		next := &store.Status{UserID: st.UserID, Status: "offline", LastActivityAt: 1700000000500}
		if err := ss.SaveOrUpdate(ctx, next); err != nil {
			t.Fatal(err)
		}
		if got, err := ss.Get(ctx, st.UserID); err != nil || !reflect.DeepEqual(got, next) {
			t.Errorf("Get after update = %+v, %v\nwant %+v", got, err, next)
		}
	})
	t.Run("user without status is ErrNotFound", func(t *testing.T) {
		if _, err := ss.Get(ctx, NewID()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("many statuses are read at once, missing ones left out", func(t *testing.T) {
		var ids []string
		for _, status := range []string{"online", "away", "offline"} {
			st := &store.Status{UserID: NewID(), Status: status}
			if err := ss.SaveOrUpdate(ctx, st); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, st.UserID)
		}
		got, err := ss.GetMany(ctx, append(slices.Clone(ids), NewID()))
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs []string
		for _, st := range got {
			gotIDs = append(gotIDs, st.UserID)
		}
		slices.Sort(gotIDs)
		slices.Sort(ids)
		if !slices.Equal(gotIDs, ids) {
			t.Errorf("GetMany = %q, want %q", gotIDs, ids)
		}
		if none, err := ss.GetMany(ctx, nil); err != nil || len(none) != 0 {
			t.Errorf("GetMany(nil) = %v, %v", none, err)
		}
	})
	t.Run("invalid arguments are rejected", func(t *testing.T) {
		var invalid *store.InvalidError
		if err := ss.SaveOrUpdate(ctx, &store.Status{Status: "online"}); !errors.As(err, &invalid) {
			t.Errorf("SaveOrUpdate without user: err = %v, want an *InvalidError", err)
		}
		if _, err := ss.GetMany(ctx, make([]string, store.MaxIDs+1)); !errors.As(err, &invalid) {
			t.Errorf("GetMany of too many ids: err = %v, want an *InvalidError", err)
		}
	})
}
