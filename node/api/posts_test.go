package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/seed331fb32b/chorus/node/app"
)

func newPostBody(c func(*world) app.Channel, message string) func(*world) any {
	return func(w *world) any { return map[string]any{"channel_id": c(w).ID, "message": message} }
}

func TestCreatePost(t *testing.T) {
	runEndpointCases(t, []endpointCase{
		{name: "a member posts", as: asBob, method: http.MethodPost, target: path("/api/v4/posts"),
			body: func(w *world) any {
				return map[string]any{"channel_id": w.channel.ID, "message": "hi #golang team", "pending_post_id": "p1", "file_ids": []string{"f"}}
			},
			want: http.StatusCreated, check: func(t *testing.T, w *world, b []byte) {
				p := decodeAs[app.Post](t, b)
				if !app.IsValidID(p.ID) || p.UserID != w.bob.user.ID || p.ChannelID != w.channel.ID || p.Message != "hi #golang team" ||
					p.CreateAt == 0 || p.UpdateAt != p.CreateAt || p.PendingPostID != "p1" || p.Hashtags != "#golang" || len(p.FileIDs) != 0 {
					t.Errorf("post = %+v", p)
				}
				m := decode(t, b)
				if props, ok := m["props"].(map[string]any); !ok || len(props) != 0 {
					t.Errorf("props = %v, want {}", m["props"])
				}
			}},
		{name: "a reply to a root in the channel", as: asAlice, method: http.MethodPost, target: path("/api/v4/posts"),
			body: func(w *world) any {
				root := w.post(nil, w.bob, w.channel.ID, "root")
				return map[string]any{"channel_id": w.channel.ID, "root_id": root.ID, "message": "reply"}
			}, want: http.StatusCreated},
		{name: "a reply to a post of another channel", as: asAlice, method: http.MethodPost, target: path("/api/v4/posts"),
			body: func(w *world) any {
				root := w.post(nil, w.alice, w.lounge.ID, "elsewhere")
				return map[string]any{"channel_id": w.channel.ID, "root_id": root.ID, "message": "reply"}
			}, want: http.StatusBadRequest, wantID: "api.post.create_post.root_id.app_error"},
		{name: "a message over 16383 characters", as: asBob, method: http.MethodPost, target: path("/api/v4/posts"),
			body: newPostBody(dev, strings.Repeat("ü", 16384)), want: http.StatusBadRequest, wantID: "model.post.is_valid.msg.app_error"},
		{name: "invalid channel id", as: asBob, method: http.MethodPost, target: path("/api/v4/posts"),
			body: body(map[string]any{"channel_id": "x", "message": "m"}), want: http.StatusBadRequest, wantID: "model.post.is_valid.channel_id.app_error"},
		{name: "a system post type", as: asBob, method: http.MethodPost, target: path("/api/v4/posts"),
			body: func(w *world) any {
				return map[string]any{"channel_id": w.channel.ID, "message": "m", "type": "system_join_channel"}
			},
			want: http.StatusBadRequest, wantID: "model.post.is_valid.type.app_error"},
		{name: "malformed JSON", as: asBob, method: http.MethodPost, target: path("/api/v4/posts"),
			body: body(`{"channel_id": "x", "props": []}`), want: http.StatusBadRequest, wantID: "api.context.invalid_body_param.app_error"},
		{name: "not a member of the channel", as: asBob, method: http.MethodPost, target: path("/api/v4/posts"),
			body: newPostBody(secret, "let me in"), want: http.StatusForbidden, wantID: "api.context.permissions.app_error"},
		{name: "a channel that does not exist", as: asBob, method: http.MethodPost, target: path("/api/v4/posts"),
			body: body(map[string]any{"channel_id": app.NewID(), "message": "m"}), want: http.StatusForbidden, wantID: "api.context.permissions.app_error"},
		{name: "no session", method: http.MethodPost, target: path("/api/v4/posts"), body: newPostBody(dev, "anon"),
			want: http.StatusUnauthorized, wantID: "api.context.session_expired.app_error"},
	})
}

func TestGetPost(t *testing.T) {
	postIn := func(c func(*world) app.Channel) func(*world) string {
		return func(w *world) string { return "/api/v4/posts/" + w.post(nil, w.alice, c(w).ID, "a post").ID }
	}
	runEndpointCases(t, []endpointCase{
		{name: "a member reads it", as: asBob, method: http.MethodGet, target: postIn(dev), want: http.StatusOK,
			check: func(t *testing.T, w *world, b []byte) {
				if p := decodeAs[app.Post](t, b); p.Message != "a post" || p.UserID != w.alice.user.ID || p.Metadata == nil {
					t.Errorf("post = %+v", p)
				}
			}},
		{name: "a team member reads a post of an open channel", as: asBob, method: http.MethodGet, target: postIn(lounge), want: http.StatusOK},
		{name: "a private channel's posts are for its members", as: asBob, method: http.MethodGet, target: postIn(secret),
			want: http.StatusForbidden, wantID: "api.context.permissions.app_error"},
		{name: "invalid id", as: asBob, method: http.MethodGet, target: path("/api/v4/posts/zzz"),
			want: http.StatusBadRequest, wantID: "api.context.invalid_url_param.app_error"},
		{name: "unknown post", as: asBob, method: http.MethodGet, target: path("/api/v4/posts/" + app.NewID()),
			want: http.StatusNotFound, wantID: "app.post.get.app_error"},
		{name: "no session", method: http.MethodGet, target: postIn(dev), want: http.StatusUnauthorized, wantID: "api.context.session_expired.app_error"},
	})
}

func TestGetPostsForChannelAccess(t *testing.T) {
	runEndpointCases(t, []endpointCase{
		{name: "a member reads the channel", as: asBob, method: http.MethodGet, target: channelPath("/posts", dev), want: http.StatusOK,
			check: func(t *testing.T, w *world, b []byte) {
				if !strings.Contains(string(b), `"order":[]`) || !strings.Contains(string(b), `"posts":{}`) {
					t.Errorf("empty channel's list = %s, want an empty order and posts", b)
				}
			}},
		{name: "a private channel is for its members", as: asBob, method: http.MethodGet, target: channelPath("/posts", secret),
			want: http.StatusForbidden, wantID: "api.context.permissions.app_error"},
		{name: "an invalid before", as: asBob, method: http.MethodGet, target: channelPath("/posts?before=x", dev),
			want: http.StatusBadRequest, wantID: "api.context.invalid_url_param.app_error"},
		{name: "an invalid since", as: asBob, method: http.MethodGet, target: channelPath("/posts?since=yesterday", dev),
			want: http.StatusBadRequest, wantID: "api.context.invalid_url_param.app_error"},
		{name: "unknown channel", as: asBob, method: http.MethodGet, target: path("/api/v4/channels/" + app.NewID() + "/posts"),
			want: http.StatusNotFound, wantID: "app.channel.get.existing.app_error"},
		{name: "no session", method: http.MethodGet, target: channelPath("/posts", dev), want: http.StatusUnauthorized, wantID: "api.context.session_expired.app_error"},
	})
}

// TestPostListPaging holds GET /channels/{id}/posts to Mattermost's
// PostList: order newest first, cursors, threads.
func TestPostListPaging(t *testing.T) {
	w := newWorld(t)
	var ids []string // p0 … p6, oldest first
	for i := range 7 {
		ids = append(ids, w.post(t, w.alice, w.channel.ID, fmt.Sprint("p", i)).ID)
	}
	rev := func(idx ...int) []string {
		var out []string
		for _, i := range idx {
			out = append(out, ids[i])
		}
		return out
	}
	tests := []struct {
		name       string
		query      string
		wantOrder  []string
		next, prev string
	}{
		{"default page is every post, newest first", "", rev(6, 5, 4, 3, 2, 1, 0), "", ""},
		{"first page of three", "?page=0&per_page=3", rev(6, 5, 4), "", ids[3]},
		{"second page of three", "?page=1&per_page=3", rev(3, 2, 1), ids[4], ids[0]},
		{"last, short page", "?page=2&per_page=3", rev(0), ids[1], ""},
		{"a page past the end", "?page=9&per_page=3", []string{}, "", ""},
		{"before a post", "?before=" + ids[5] + "&per_page=2", rev(4, 3), ids[5], ids[2]},
		{"before, second page", "?before=" + ids[5] + "&page=1&per_page=2", rev(2, 1), ids[3], ids[0]},
		{"before, a short page ends the list", "?before=" + ids[2] + "&per_page=5", rev(1, 0), ids[2], ""},
		{"after a post", "?after=" + ids[1] + "&per_page=2", rev(3, 2), ids[4], ids[1]},
		{"after, a short page ends the list", "?after=" + ids[4] + "&per_page=5", rev(6, 5), "", ids[4]},
		{"per_page is capped at 200", "?per_page=100000", rev(6, 5, 4, 3, 2, 1, 0), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := w.mustDo(t, w.bob, http.MethodGet, "/api/v4/channels/"+w.channel.ID+"/posts"+tt.query, nil, http.StatusOK)
			list := decodeAs[app.PostList](t, b)
			if !slices.Equal(list.Order, tt.wantOrder) {
				t.Errorf("order = %q\nwant    %q", list.Order, tt.wantOrder)
			}
			if list.NextPostID != tt.next || list.PrevPostID != tt.prev {
				t.Errorf("next, prev = %q, %q; want %q, %q", list.NextPostID, list.PrevPostID, tt.next, tt.prev)
			}
			if len(list.Posts) != len(list.Order) {
				t.Errorf("%d posts for %d ids", len(list.Posts), len(list.Order))
			}
			for _, id := range list.Order {
				if list.Posts[id] == nil || list.Posts[id].ID != id {
					t.Errorf("posts lacks %s", id)
				}
			}
		})
	}
	t.Run("since gives every post updated after it, without cursors", func(t *testing.T) {
		first := decodeAs[app.Post](t, w.mustDo(t, w.bob, http.MethodGet, "/api/v4/posts/"+ids[4], nil, http.StatusOK))
		b := w.mustDo(t, w.bob, http.MethodGet, fmt.Sprintf("/api/v4/channels/%s/posts?since=%d", w.channel.ID, first.UpdateAt), nil, http.StatusOK)
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		list := decodeAs[app.PostList](t, b)
		if !slices.Equal(list.Order, rev(6, 5)) || list.NextPostID != "" || list.PrevPostID != "" {
			t.Errorf("since list = %+v", list)
		}
		for _, key := range []string{"order", "posts", "next_post_id", "prev_post_id", "first_inaccessible_post_time"} {
			if _, ok := raw[key]; !ok {
				t.Errorf("PostList lacks %q: %s", key, b)
			}
		}
	})
	t.Run("a reply brings its thread into posts, not into order", func(t *testing.T) {
		root := w.post(t, w.alice, w.lounge.ID, "root")
		w.post(t, w.alice, w.lounge.ID, "between")
		reply := decodeAs[app.Post](t, w.mustDo(t, w.alice, http.MethodPost, "/api/v4/posts",
			map[string]any{"channel_id": w.lounge.ID, "root_id": root.ID, "message": "reply"}, http.StatusCreated))
		b := w.mustDo(t, w.alice, http.MethodGet, "/api/v4/channels/"+w.lounge.ID+"/posts?per_page=1", nil, http.StatusOK)
		list := decodeAs[app.PostList](t, b)
		if !slices.Equal(list.Order, []string{reply.ID}) || list.Posts[root.ID] == nil {
			t.Errorf("list = order %q, posts %d; want the reply in order and its root in posts", list.Order, len(list.Posts))
		}
		b = w.mustDo(t, w.alice, http.MethodGet, "/api/v4/channels/"+w.lounge.ID+"/posts?per_page=1&skipFetchThreads=true", nil, http.StatusOK)
		if list := decodeAs[app.PostList](t, b); len(list.Posts) != 1 {
			t.Errorf("skipFetchThreads gave %d posts, want 1", len(list.Posts))
		}
	})
}
