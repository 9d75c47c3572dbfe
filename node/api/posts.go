package api

import (
	"net/http"
	"strconv"

	"github.com/seed331fb32b/chorus/node/app"
)

// createPost serves POST /api/v4/posts (?set_online=false leaves the
// user's status alone): 201 with the post.
func (h *handler) createPost(w http.ResponseWriter, r *http.Request, s *app.Session) {
	np, err := decodeNewPost(r.Body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	setOnline := r.URL.Query().Get("set_online") != "false"
	p, err := h.app.CreatePost(r.Context(), s, np, setOnline)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusCreated, p)
}

// getPost serves GET /api/v4/posts/{post_id}.
func (h *handler) getPost(w http.ResponseWriter, r *http.Request, s *app.Session) {
	id, ok := pathID(w, r, "post_id", s)
	if !ok {
		return
	}
	p, err := h.app.GetPost(r.Context(), s, id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, p)
}

// getPostsForChannel serves GET /api/v4/channels/{channel_id}/posts with
// Mattermost's parameters: page, per_page (60, at most 200), since (Unix
// milliseconds), before and after (post ids), skipFetchThreads. The
// answer is a PostList (app.App.GetPosts).
func (h *handler) getPostsForChannel(w http.ResponseWriter, r *http.Request, s *app.Session) {
	channelID, ok := pathID(w, r, "channel_id", s)
	if !ok {
		return
	}
	query := r.URL.Query()
	q := app.PostsQuery{
		ChannelID:   channelID,
		Page:        queryInt(r, "page", 0),
		PerPage:     queryInt(r, "per_page", app.PerPageDefault),
		Before:      query.Get("before"),
		After:       query.Get("after"),
		SkipThreads: query.Get("skipFetchThreads") == "true",
	}
	for name, id := range map[string]string{"before": q.Before, "after": q.After} {
		if id != "" && !app.IsValidID(id) {
			writeError(w, r, invalidURLParam(name))
			return
		}
	}
	if since := query.Get("since"); since != "" {
		v, err := strconv.ParseInt(since, 10, 64)
		if err != nil {
			writeError(w, r, invalidURLParam("since"))
			return
		}
		q.Since = v
	}
	list, err := h.app.GetPosts(r.Context(), s, q)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, list)
}
