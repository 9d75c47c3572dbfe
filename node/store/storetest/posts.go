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
	PostPages(t, s)
}

// PostPages states how the Posts accessor reads a channel around a post,
// since a time, and by thread.
func PostPages(t *testing.T, s *store.Store) {
	ps := s.Posts()
	ctx := t.Context()

	// m0…m6 created at 1000…1006 (updated a millisecond later); m3 deleted.
	channel := saveChannel(t, s).ID
	ids := map[string]string{}
	for i := range 7 {
		p := newPost(channel, int64(1000+i))
		p.Message = fmt.Sprint("m", i)
		if i == 3 {
			p.DeleteAt = 5000
		}
		if err := ps.Save(ctx, p); err != nil {
			t.Fatal(err)
		}
		ids[p.Message] = p.ID
	}
	if err := ps.Save(ctx, newPost(saveChannel(t, s).ID, 1002)); err != nil {
		t.Fatal(err)
	}

	t.Run("before and after a post, a page at a time, newest first", func(t *testing.T) {
		tests := []struct {
			name          string
			before        bool
			anchor        string
			page, perPage int
			want          []string
		}{
			{"before, first page", true, ids["m5"], 0, 2, []string{"m4", "m2"}},
			{"before, second page", true, ids["m5"], 1, 2, []string{"m1", "m0"}},
			{"before the oldest", true, ids["m0"], 0, 60, nil},
			{"before a missing post", true, NewID(), 0, 60, nil},
			{"after, first page holds the next posts", false, ids["m1"], 0, 2, []string{"m4", "m2"}},
			{"after, second page", false, ids["m1"], 1, 2, []string{"m6", "m5"}},
			{"after the newest", false, ids["m6"], 0, 60, nil},
			{"after a missing post", false, NewID(), 0, 60, nil},
		}
		for _, tt := range tests {
			get := ps.GetAfter
			if tt.before {
				get = ps.GetBefore
			}
			got, err := get(ctx, channel, tt.anchor, tt.page, tt.perPage)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if m := messages(got); !reflect.DeepEqual(m, tt.want) {
				t.Errorf("%s: %q, want %q", tt.name, m, tt.want)
			}
		}
	})
	t.Run("since a time includes deleted posts, newest first, up to the limit", func(t *testing.T) {
		got, err := ps.GetSince(ctx, channel, 1003, 100)
		if err != nil {
			t.Fatal(err)
		}
		if m := messages(got); !reflect.DeepEqual(m, []string{"m6", "m5", "m4", "m3"}) {
			t.Errorf("GetSince(1003) = %q, want [m6 m5 m4 m3]", m)
		}
		got, err = ps.GetSince(ctx, channel, 1003, 2)
		if err != nil {
			t.Fatal(err)
		}
		if m := messages(got); !reflect.DeepEqual(m, []string{"m6", "m5"}) {
			t.Errorf("GetSince(1003, limit 2) = %q, want [m6 m5]", m)
		}
	})
	t.Run("the ids next to a time skip deleted posts", func(t *testing.T) {
		tests := []struct {
			before   bool
			createAt int64
			want     string
		}{
			{true, 1004, ids["m2"]},
			{true, 1000, ""},
			{false, 1002, ids["m4"]},
			{false, 1006, ""},
		}
		for _, tt := range tests {
			get := ps.IDAfter
			if tt.before {
				get = ps.IDBefore
			}
			got, err := get(ctx, channel, tt.createAt)
			if err != nil || got != tt.want {
				t.Errorf("before=%v at %d: %q, %v; want %q", tt.before, tt.createAt, got, err, tt.want)
			}
		}
	})
	t.Run("threads hold their root and replies that are not deleted", func(t *testing.T) {
		c := saveChannel(t, s).ID
		root, other := newPost(c, 1), newPost(c, 2)
		x, y, z, gone := newPost(c, 3), newPost(c, 4), newPost(c, 5), newPost(c, 6)
		x.RootID, y.RootID, gone.RootID, z.RootID = root.ID, root.ID, root.ID, other.ID
		gone.DeleteAt = 7
		for _, p := range []*store.Post{root, other, x, y, z, gone} {
			if err := ps.Save(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		got, err := ps.GetThreads(ctx, []string{root.ID})
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs []string
		for _, p := range got {
			gotIDs = append(gotIDs, p.ID)
		}
		want := []string{root.ID, x.ID, y.ID}
		slices.Sort(gotIDs)
		slices.Sort(want)
		if !slices.Equal(gotIDs, want) {
			t.Errorf("GetThreads = %q, want %q", gotIDs, want)
		}
	})
	t.Run("invalid arguments are rejected", func(t *testing.T) {
		var invalid *store.InvalidError
		if _, err := ps.GetBefore(ctx, channel, ids["m1"], -1, 60); !errors.As(err, &invalid) {
			t.Errorf("GetBefore(page -1): err = %v, want an *InvalidError", err)
		}
		if _, err := ps.GetAfter(ctx, channel, ids["m1"], 0, 0); !errors.As(err, &invalid) {
			t.Errorf("GetAfter(perPage 0): err = %v, want an *InvalidError", err)
		}
		if _, err := ps.GetSince(ctx, channel, 0, 0); !errors.As(err, &invalid) {
			t.Errorf("GetSince(limit 0): err = %v, want an *InvalidError", err)
		}
		if _, err := ps.GetThreads(ctx, make([]string, store.MaxIDs+1)); !errors.As(err, &invalid) {
			t.Errorf("GetThreads of too many roots: err = %v, want an *InvalidError", err)
		}
	})
}
