package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/seed331fb32b/chorus/node/store"
)

// newPost returns a post in channelID created at createAt, with every
// field set.
func newPost(channelID string, createAt int64) *store.Post {
	return &store.Post{
		ID:           NewID(),
		CreateAt:     createAt,
		UpdateAt:     createAt + 1,
		EditAt:       createAt + 2,
		IsPinned:     true,
		UserID:       NewID(),
		ChannelID:    channelID,
		OriginalID:   NewID(),
		Message:      fmt.Sprintf("message at %d 🎉", createAt),
		Type:         "",
		Props:        `{"from_bot":"false"}`,
		Hashtags:     "#chorus #go",
		FileIDs:      `["` + NewID() + `"]`,
		HasReactions: true,
	}
}

// saveChannel saves a fresh channel with no posts and returns it.
func saveChannel(t *testing.T, s *store.Store) *store.Channel {
	t.Helper()
	c := &store.Channel{ID: NewID(), TeamID: NewID(), Name: "c-" + NewID(), Type: "O"}
	if err := s.Channels().Save(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// messages returns the messages of posts, in order.
func messages(posts []*store.Post) []string {
	var out []string
	for _, p := range posts {
		out = append(out, p.Message)
	}
	return out
}

// Posts states the behaviour of the Posts accessor.
func Posts(t *testing.T, s *store.Store) {
	ps := s.Posts()
	ctx := t.Context()

	t.Run("saved post is read back with every field", func(t *testing.T) {
		p := newPost(saveChannel(t, s).ID, 1700000000000)
		p.RootID = NewID()
		if err := ps.Save(ctx, p); err != nil {
			t.Fatal(err)
		}
		got, err := ps.Get(ctx, p.ID)
		if err != nil || !reflect.DeepEqual(got, p) {
			t.Errorf("Get = %+v, %v\nwant %+v", got, err, p)
		}
	})
	t.Run("missing post is ErrNotFound", func(t *testing.T) {
		if _, err := ps.Get(ctx, NewID()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("long and non-ASCII messages round-trip", func(t *testing.T) {
		channel := saveChannel(t, s).ID
		for _, msg := range []string{"", "héllo 🌍 世界", strings.Repeat("ü", 16383)} { // Mattermost's message limit in runes
			p := newPost(channel, 1)
			p.Message = msg
			if err := ps.Save(ctx, p); err != nil {
				t.Fatalf("Save of a %d-byte message: %v", len(msg), err)
			}
			got, err := ps.Get(ctx, p.ID)
			if err != nil || got.Message != msg {
				t.Errorf("message of %d bytes did not round-trip (err %v)", len(msg), err)
			}
		}
	})
	t.Run("pages are newest first and skip deleted posts and other channels", func(t *testing.T) {
		channel := saveChannel(t, s).ID
		for i := range 7 {
			p := newPost(channel, int64(1000+i))
			p.Message = fmt.Sprint("m", i)
			if i == 3 {
				p.DeleteAt = 5000
			}
			if err := ps.Save(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		if err := ps.Save(ctx, newPost(saveChannel(t, s).ID, 2000)); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			page, perPage int
			want          []string
		}{
			{0, 60, []string{"m6", "m5", "m4", "m2", "m1", "m0"}},
			{0, 2, []string{"m6", "m5"}},
			{1, 2, []string{"m4", "m2"}},
			{2, 2, []string{"m1", "m0"}},
			{3, 2, nil},
		}
		for _, tt := range tests {
			got, err := ps.GetPage(ctx, channel, tt.page, tt.perPage)
			if err != nil {
				t.Fatal(err)
			}
			if m := messages(got); !reflect.DeepEqual(m, tt.want) {
				t.Errorf("GetPage(page %d, perPage %d) = %q, want %q", tt.page, tt.perPage, m, tt.want)
			}
		}
	})
	t.Run("posts created in the same millisecond keep a stable order", func(t *testing.T) {
		channel := saveChannel(t, s).ID
		var ids []string
		for range 5 {
			p := newPost(channel, 42)
			if err := ps.Save(ctx, p); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, p.ID)
		}
		var paged []string
		for page := range 5 {
			got, err := ps.GetPage(ctx, channel, page, 1)
			if err != nil || len(got) != 1 {
				t.Fatalf("GetPage(%d, 1) = %d posts, %v", page, len(got), err)
			}
			paged = append(paged, got[0].ID)
		}
		slices.Sort(ids)
		slices.Reverse(ids)
		if !slices.Equal(paged, ids) {
			t.Fatalf("pages of one post each = %q, want every post once, ids descending: %q", paged, ids)
		}
	})
	t.Run("saving counts the post in its channel", func(t *testing.T) {
		c := saveChannel(t, s)
		root := newPost(c.ID, 3000)
		reply := newPost(c.ID, 4000)
		reply.RootID = root.ID
		older := newPost(c.ID, 2000)
		for _, p := range []*store.Post{root, reply, older} {
			if err := ps.Save(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Channels().Get(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := struct{ Total, TotalRoot, LastPostAt, LastRootPostAt int64 }{3, 2, 4000, 3000}
		have := struct{ Total, TotalRoot, LastPostAt, LastRootPostAt int64 }{got.TotalMsgCount, got.TotalMsgCountRoot, got.LastPostAt, got.LastRootPostAt}
		if have != want {
			t.Errorf("channel counters = %+v, want %+v", have, want)
		}
	})
	t.Run("duplicate id conflicts and counts nothing", func(t *testing.T) {
		c := saveChannel(t, s)
		p := newPost(c.ID, 10)
		if err := ps.Save(ctx, p); err != nil {
			t.Fatal(err)
		}
		var conflict *store.ConflictError
		if err := ps.Save(ctx, p); !errors.As(err, &conflict) || conflict.Table != "Posts" || conflict.ID != p.ID {
			t.Fatalf("second Save: err = %v, want a *ConflictError on Posts %s", err, p.ID)
		}
		got, err := s.Channels().Get(ctx, c.ID)
		if err != nil || got.TotalMsgCount != 1 {
			t.Errorf("TotalMsgCount = %d (%v) after a rejected duplicate, want 1", got.TotalMsgCount, err)
		}
	})
	t.Run("invalid arguments are rejected", func(t *testing.T) {
		var invalid *store.InvalidError
		if err := ps.Save(ctx, &store.Post{ChannelID: NewID()}); !errors.As(err, &invalid) {
			t.Errorf("Save without id: err = %v, want an *InvalidError", err)
		}
		if err := ps.Save(ctx, &store.Post{ID: NewID()}); !errors.As(err, &invalid) {
			t.Errorf("Save without channel: err = %v, want an *InvalidError", err)
		}
		if _, err := ps.GetPage(ctx, NewID(), -1, 60); !errors.As(err, &invalid) {
			t.Errorf("GetPage(page -1): err = %v, want an *InvalidError", err)
		}
		if _, err := ps.GetPage(ctx, NewID(), 0, 0); !errors.As(err, &invalid) {
			t.Errorf("GetPage(perPage 0): err = %v, want an *InvalidError", err)
		}
	})
}
