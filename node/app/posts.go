package app

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Post is Mattermost's model.Post, with its JSON names. PendingPostID is
// not stored: it echoes the client's own id of a post being created.
type Post struct {
	ID            string         `json:"id"`
	CreateAt      int64          `json:"create_at"`
	UpdateAt      int64          `json:"update_at"`
	EditAt        int64          `json:"edit_at"`
	DeleteAt      int64          `json:"delete_at"`
	IsPinned      bool           `json:"is_pinned"`
	UserID        string         `json:"user_id"`
	ChannelID     string         `json:"channel_id"`
	RootID        string         `json:"root_id"`
	OriginalID    string         `json:"original_id"`
	Message       string         `json:"message"`
	Type          string         `json:"type"`
	Props         map[string]any `json:"props"`
	Hashtags      string         `json:"hashtags"`
	FileIDs       []string       `json:"file_ids,omitempty"`
	PendingPostID string         `json:"pending_post_id"`
	HasReactions  bool           `json:"has_reactions,omitempty"`
	ReplyCount    int64          `json:"reply_count"`
	LastReplyAt   int64          `json:"last_reply_at"`
	Participants  []*User        `json:"participants"`
	Metadata      *PostMetadata  `json:"metadata,omitempty"`
}

// PostMetadata is Mattermost's model.PostMetadata (embeds, emojis, files,
// reactions…), which Chorus sends empty, as Mattermost does for a plain
// text post.
type PostMetadata struct{}

// forClient returns a copy of p as clients read it: props never null,
// metadata present (Mattermost's PreparePostForClient).
func (p *Post) forClient() *Post {
	c := *p
	if c.Props == nil {
		c.Props = map[string]any{}
	}
	c.Metadata = &PostMetadata{}
	return &c
}

// PostList is Mattermost's model.PostList: the ids of a page in Order,
// newest first, every post of the page and of its threads in Posts, and
// the posts on either side of the page in NextPostID (newer) and
// PrevPostID (older), "" at either end.
type PostList struct {
	Order                     []string         `json:"order"`
	Posts                     map[string]*Post `json:"posts"`
	NextPostID                string           `json:"next_post_id"`
	PrevPostID                string           `json:"prev_post_id"`
	HasNext                   *bool            `json:"has_next,omitempty"`
	FirstInaccessiblePostTime int64            `json:"first_inaccessible_post_time"`
}

// NewPost is what a client sets on a new post.
type NewPost struct {
	ChannelID     string
	RootID        string
	Message       string
	Type          string
	Props         map[string]any
	PendingPostID string
	// CreateAt is honoured for system admins only, as in Mattermost
	// (imports); zero means now.
	CreateAt int64
}

// Limits of a post, Mattermost's.
const (
	postMessageMaxRunes    = 16383 // PostMessageMaxRunesV2
	postPendingIDMaxLength = 128
	postCustomTypePrefix   = "custom_"
	postsSinceLimit        = 1000 // what GET /channels/{id}/posts?since= reads at most
)

// Paging of GET /api/v4/channels/{id}/posts, Mattermost's.
const (
	// PerPageDefault is the page size when none is asked for.
	PerPageDefault = 60
	// PerPageMaximum is the largest page; larger asks get this many.
	PerPageMaximum = 200
)

// validatePost checks np as Mattermost's Post.IsValid does.
func validatePost(np *NewPost) error {
	invalid := func(field string) error {
		return newError(KindInvalid, "model.post.is_valid."+field+".app_error", "Invalid "+field+".", "")
	}
	switch {
	case !IsValidID(np.ChannelID):
		return invalid("channel_id")
	case np.RootID != "" && !IsValidID(np.RootID):
		return invalid("root_id")
	case utf8.RuneCountInString(np.Message) > postMessageMaxRunes:
		return invalid("msg")
	case np.Type != "" && !strings.HasPrefix(np.Type, postCustomTypePrefix):
		return invalid("type")
	case len(np.PendingPostID) > postPendingIDMaxLength:
		return invalid("pending_post_id")
	}
	return nil
}

// CreatePost posts np as the session's user, as Mattermost's
// POST /api/v4/posts does: members of the channel may (create_post); a
// reply's root must be a post of the same channel that is not itself a
// reply. The channel's members get a posted event carrying the post. With
// setOnline (the set_online query parameter, default true) the user is
// marked online. Files are not supported: file_ids are dropped, as
// Mattermost drops ids of files it does not have.
//
// Posts made on one node get strictly increasing CreateAt values (a post
// in the same millisecond as the previous gets the next millisecond), so
// a channel's order is the order of creation.
func (a *App) CreatePost(ctx context.Context, s *Session, np NewPost, setOnline bool) (*Post, error) {
	if err := validatePost(&np); err != nil {
		return nil, err
	}
	if !s.IsSystemAdmin() {
		if ok, err := a.isChannelMember(ctx, np.ChannelID, s.UserID); err != nil {
			return nil, err
		} else if !ok {
			return nil, forbidden(s.UserID, "create_post")
		}
	}
	c, err := a.cachedChannel(ctx, np.ChannelID)
	if err != nil {
		return nil, err
	}
	if c.DeleteAt != 0 {
		return nil, newError(KindInvalid, "api.post.create_post.can_not_post_to_deleted.error",
			"Can not post to deleted channel.", "channel_id="+c.ID)
	}
	if np.RootID != "" {
		if err := a.checkRoot(ctx, np.RootID, c.ID); err != nil {
			return nil, err
		}
	}
	sender, err := a.user(ctx, s.UserID)
	if err != nil {
		return nil, err
	}

	createAt := a.nextPostTime()
	if np.CreateAt != 0 && s.IsSystemAdmin() {
		createAt = np.CreateAt
	}
	p := &Post{
		ID:            NewID(),
		CreateAt:      createAt,
		UpdateAt:      createAt,
		UserID:        s.UserID,
		ChannelID:     c.ID,
		RootID:        np.RootID,
		Message:       np.Message,
		Type:          np.Type,
		Props:         np.Props,
		Hashtags:      parseHashtags(np.Message),
		PendingPostID: np.PendingPostID,
	}
	if p.Props == nil {
		p.Props = map[string]any{}
	}
	if err := a.stores.Posts.Save(ctx, p); err != nil {
		return nil, internal("app.post.save.app_error", "saving the post", err)
	}
	out := p.forClient()
	postJSON, err := json.Marshal(out)
	if err != nil { // cannot happen: props came from JSON
		return nil, internal("app.post.marshal.app_error", "encoding the post", err)
	}
	a.publish(ctx, Event{
		Name: EventPosted,
		Data: map[string]any{
			"post":                 string(postJSON), // Mattermost sends the post as a JSON string
			"channel_type":         c.Type,
			"channel_display_name": c.DisplayName,
			"channel_name":         c.Name,
			"sender_name":          "@" + sender.Username,
			"team_id":              c.TeamID,
			"set_online":           setOnline,
		},
		Broadcast: Broadcast{ChannelID: c.ID},
	})
	if setOnline {
		a.SetStatusOnline(ctx, s.UserID, false)
	}
	return out, nil
}

// nextPostTime returns the current time in Unix milliseconds, or one more
// than the last post's on this node when that is not older.
func (a *App) nextPostTime() int64 {
	now := a.nowMillis()
	for {
		last := a.lastPostAt.Load()
		t := max(now, last+1)
		if a.lastPostAt.CompareAndSwap(last, t) {
			return t
		}
	}
}

// checkRoot checks that rootID is a post of channelID that is not deleted
// and not a reply. It reads the master: a reply often follows its root at
// once (Mattermost's reason for RequestContextWithMaster, PR #16888).
func (a *App) checkRoot(ctx context.Context, rootID, channelID string) error {
	bad := newError(KindInvalid, "api.post.create_post.root_id.app_error", "Invalid RootId parameter.", "root_id="+rootID)
	root, err := a.stores.Posts.Get(a.master(ctx), rootID)
	switch {
	case errors.Is(err, ErrNotFound):
		return bad
	case err != nil:
		return internal("app.post.get.app_error", "getting the root post", err)
	case root.ChannelID != channelID || root.DeleteAt != 0 || root.RootID != "":
		return bad
	}
	return nil
}

// Hashtag patterns, Mattermost's (model/utils.go): a word is trimmed of
// surrounding punctuation and extra "#"s, then is a hashtag when it is "#",
// a letter, and letters, digits, "-", "_" or "." ending in a letter or
// digit.
var (
	hashtagPuncStart = regexp.MustCompile(`^[^\pL\d\s#]+`)
	hashtagPuncEnd   = regexp.MustCompile(`[^\pL\d\s]+$`)
	hashtagStart     = regexp.MustCompile(`^#{2,}`)
	validHashtag     = regexp.MustCompile(`^(#\pL[\pL\d\-_.]*[\pL\d])$`)
)

// hashtagsMaxLength bounds a post's hashtags, Mattermost's.
const hashtagsMaxLength = 1000

// parseHashtags returns the hashtags of message, space-separated, as
// Mattermost's ParseHashtags does (repeats included), cut to whole tags
// within 1000 bytes.
func parseHashtags(message string) string {
	var b strings.Builder
	for word := range strings.FieldsSeq(message) {
		if !strings.Contains(word, "#") {
			continue // the common case, spared the regular expressions
		}
		word = hashtagPuncStart.ReplaceAllString(word, "")
		word = hashtagPuncEnd.ReplaceAllString(word, "")
		word = hashtagStart.ReplaceAllString(word, "#")
		if !validHashtag.MatchString(word) || b.Len()+1+len(word) > hashtagsMaxLength {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(word)
	}
	return b.String()
}

// GetPost returns the post of id, as Mattermost's GET /api/v4/posts/{id}:
// to those who may read its channel. A deleted post is not found.
func (a *App) GetPost(ctx context.Context, s *Session, id string) (*Post, error) {
	p, err := a.stores.Posts.Get(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && p.DeleteAt != 0) {
		return nil, newError(KindNotFound, "app.post.get.app_error", "Unable to get the post.", "post_id="+id)
	}
	if err != nil {
		return nil, internal("app.post.get.app_error", "getting the post", err)
	}
	c, err := a.cachedChannel(ctx, p.ChannelID)
	if err != nil {
		return nil, err
	}
	if ok, err := a.canReadChannel(ctx, s, c); err != nil {
		return nil, err
	} else if !ok {
		return nil, forbidden(s.UserID, "read_channel")
	}
	return p.forClient(), nil
}

// PostsQuery is a read of a channel's posts, the query of Mattermost's
// GET /api/v4/channels/{id}/posts.
type PostsQuery struct {
	ChannelID string
	// Page (from 0) and PerPage (default PerPageDefault, at most
	// PerPageMaximum) count pages from the newest post, or from Before or
	// After.
	Page, PerPage int
	// Since, when positive, asks for every post created, edited or deleted
	// after it (Unix milliseconds), up to 1000; paging is then ignored.
	Since int64
	// Before and After, post ids, page backwards or forwards from that
	// post. Since wins over After, which wins over Before.
	Before, After string
	// SkipThreads leaves the other posts of the page's threads out of
	// Posts (skipFetchThreads=true).
	SkipThreads bool
}

// GetPosts reads a channel's posts as Mattermost's
// GET /api/v4/channels/{id}/posts does, for those who may read the
// channel: a [PostList] whose Order is the page, newest first; whose Posts
// also hold the roots and replies of the threads the page's replies belong
// to (unless SkipThreads); and whose NextPostID and PrevPostID name the
// posts right after and before the page (Mattermost's
// AddCursorIdsForPostList: with Since both are "", with After the previous
// is After itself on page 0, with Before the next is Before itself on page
// 0, and a short page has nothing beyond it).
func (a *App) GetPosts(ctx context.Context, s *Session, q PostsQuery) (*PostList, error) {
	c, err := a.channel(ctx, q.ChannelID)
	if err != nil {
		return nil, err
	}
	if ok, err := a.canReadChannel(ctx, s, c); err != nil {
		return nil, err
	} else if !ok {
		return nil, forbidden(s.UserID, "read_channel")
	}
	if q.Page < 0 {
		q.Page = 0
	}
	if q.PerPage <= 0 {
		q.PerPage = PerPageDefault
	}
	q.PerPage = min(q.PerPage, PerPageMaximum)

	var posts []*Post
	posts, err = a.readPosts(ctx, q)
	if err != nil {
		return nil, internal("app.post.get_posts.app_error", "getting posts", err)
	}
	list := &PostList{Order: make([]string, 0, len(posts)), Posts: make(map[string]*Post, len(posts))}
	var rootIDs []string
	for _, p := range posts {
		list.Order = append(list.Order, p.ID)
		list.Posts[p.ID] = p.forClient()
		if p.RootID != "" {
			rootIDs = append(rootIDs, p.RootID)
		}
	}
	if !q.SkipThreads && len(rootIDs) > 0 {
		thread, err := a.stores.Posts.GetThreads(ctx, uniqueIDs(rootIDs))
		if err != nil {
			return nil, internal("app.post.get_posts.app_error", "getting threads", err)
		}
		for _, p := range thread {
			if _, ok := list.Posts[p.ID]; !ok {
				list.Posts[p.ID] = p.forClient()
			}
		}
	}
	if err := a.addCursors(ctx, list, q); err != nil {
		return nil, internal("app.post.get_posts.app_error", "getting the next and previous posts", err)
	}
	return list, nil
}

// readPosts reads the page q asks for.
func (a *App) readPosts(ctx context.Context, q PostsQuery) ([]*Post, error) {
	ps := a.stores.Posts
	switch {
	case q.Since > 0:
		return ps.GetSince(ctx, q.ChannelID, q.Since, postsSinceLimit)
	case q.After != "":
		return ps.GetAfter(ctx, q.ChannelID, q.After, q.Page, q.PerPage)
	case q.Before != "":
		return ps.GetBefore(ctx, q.ChannelID, q.Before, q.Page, q.PerPage)
	}
	return ps.GetPage(ctx, q.ChannelID, q.Page, q.PerPage)
}

// addCursors sets list's NextPostID and PrevPostID as Mattermost's
// AddCursorIdsForPostList does.
func (a *App) addCursors(ctx context.Context, list *PostList, q PostsQuery) error {
	var next, prev string
	nextSet, prevSet := false, false
	switch {
	case q.Since > 0:
		nextSet, prevSet = true, true
	case q.After != "":
		if q.Page == 0 {
			prev, prevSet = q.After, true
		}
		nextSet = len(list.Order) < q.PerPage
	case q.Before != "":
		if q.Page == 0 {
			next, nextSet = q.Before, true
		}
		prevSet = len(list.Order) < q.PerPage
	}
	if len(list.Order) > 0 {
		var err error
		if !nextSet {
			newest := list.Posts[list.Order[0]]
			if next, err = a.stores.Posts.IDAfter(ctx, q.ChannelID, newest.CreateAt); err != nil {
				return err
			}
		}
		if !prevSet {
			oldest := list.Posts[list.Order[len(list.Order)-1]]
			if prev, err = a.stores.Posts.IDBefore(ctx, q.ChannelID, oldest.CreateAt); err != nil {
				return err
			}
		}
	}
	list.NextPostID, list.PrevPostID = next, prev
	return nil
}
