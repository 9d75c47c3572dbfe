package api

import (
	"net/http"
	"strings"
)

// notImplementedRoutes are Mattermost v4 routes (api4's init functions) a
// client may call that Chorus does not implement: a request to one gets
// 501 rather than 404, so a client can tell "not supported here" from a
// typo. "{}" stands for any one path segment. The routes Chorus implements
// are matched by the mux before these are consulted.
var notImplementedRoutes = []string{
	// users
	"GET /users", "PUT /users/{}", "DELETE /users/{}", "PUT /users/{}/roles",
	"PUT /users/{}/active", "PUT /users/{}/password", "PUT /users/{}/mfa", "POST /users/{}/mfa/generate",
	"GET /users/{}/image", "POST /users/{}/image", "DELETE /users/{}/image", "GET /users/{}/image/default",
	"GET /users/{}/sessions", "POST /users/{}/sessions/revoke", "POST /users/{}/sessions/revoke/all",
	"POST /users/search", "POST /users/usernames", "GET /users/autocomplete", "GET /users/known",
	"GET /users/stats", "GET /users/group_channels", "GET /users/username/{}", "GET /users/email/{}",
	"POST /users/password/reset", "POST /users/password/reset/send", "POST /users/email/verify",
	"POST /users/email/verify/send", "POST /users/login/switch", "POST /users/login/type",
	"POST /users/login/desktop_token", "POST /users/login/one_time_link", "POST /users/login/cws",
	"GET /users/{}/audits", "GET /users/{}/teams/members", "GET /users/{}/teams/unread",
	"GET /users/{}/teams/{}/unread", "GET /users/{}/teams/{}/channels/members",
	"GET /users/{}/teams/{}/channels/categories", "GET /users/{}/channels", "GET /users/{}/channel_members",
	"GET /users/{}/preferences", "PUT /users/{}/preferences", "POST /users/{}/preferences/delete",
	"GET /users/{}/preferences/{}", "GET /users/{}/preferences/{}/name/{}",
	"GET /users/{}/channels/{}/unread", "GET /users/{}/channels/{}/posts/unread", "POST /users/{}/typing",
	"PUT /users/{}/status/custom", "DELETE /users/{}/status/custom", "GET /users/{}/teams/{}/threads",
	"GET /users/{}/posts/flagged", "GET /users/{}/tokens", "POST /users/{}/tokens",
	"POST /users/{}/convert_to_bot", "DELETE /users/{}/posts/{}/reactions/{}", "GET /users/{}/teams/{}/drafts",
	"POST /users/{}/terms_of_service", "POST /users/ids/since",
	// teams
	"GET /teams", "PUT /teams/{}", "DELETE /teams/{}", "PUT /teams/{}/patch", "PUT /teams/{}/privacy",
	"POST /teams/{}/restore", "GET /teams/name/{}", "GET /teams/name/{}/exists", "GET /teams/{}/members",
	"GET /teams/{}/members/{}", "DELETE /teams/{}/members/{}", "PUT /teams/{}/members/{}/roles",
	"PUT /teams/{}/members/{}/schemeRoles", "POST /teams/{}/members/batch", "POST /teams/members/invite",
	"POST /teams/{}/members/ids", "GET /teams/{}/stats", "POST /teams/search", "GET /teams/{}/channels",
	"GET /teams/{}/channels/deleted", "GET /teams/{}/channels/private", "POST /teams/{}/channels/search",
	"GET /teams/{}/channels/autocomplete", "GET /teams/{}/channels/name/{}", "GET /teams/name/{}/channels/name/{}",
	"GET /teams/{}/image", "POST /teams/{}/image", "DELETE /teams/{}/image", "POST /teams/{}/invite/email",
	"POST /teams/{}/posts/search", "POST /teams/{}/files/search", "GET /teams/invite/{}",
	"POST /teams/{}/regenerate_invite_id", "GET /teams/{}/commands/autocomplete",
	// channels
	"GET /channels", "POST /channels/direct", "POST /channels/group", "POST /channels/search",
	"POST /channels/group/search", "PUT /channels/{}", "DELETE /channels/{}", "PUT /channels/{}/patch",
	"PUT /channels/{}/privacy", "POST /channels/{}/restore", "POST /channels/{}/move", "GET /channels/{}/stats",
	"GET /channels/{}/pinned", "GET /channels/{}/timezones", "POST /channels/{}/members/ids",
	"GET /channels/{}/members", "GET /channels/{}/members/{}", "DELETE /channels/{}/members/{}",
	"PUT /channels/{}/members/{}/roles", "PUT /channels/{}/members/{}/notify_props",
	"PUT /channels/{}/members/{}/schemeRoles", "POST /channels/members/{}/view", "GET /channels/{}/bookmarks",
	"POST /channels/stats/member_count",
	// posts, reactions, files
	"PUT /posts/{}", "DELETE /posts/{}", "PUT /posts/{}/patch", "GET /posts/{}/thread", "GET /posts/{}/files/info",
	"POST /posts/{}/pin", "POST /posts/{}/unpin", "GET /posts/{}/reactions", "POST /posts/{}/actions/{}",
	"POST /posts/ids", "POST /posts/ephemeral", "POST /posts/{}/ack", "GET /posts/{}/edit_history",
	"POST /reactions", "POST /files", "GET /files/{}", "GET /files/{}/thumbnail", "GET /files/{}/preview",
	"GET /files/{}/link", "GET /files/{}/info", "POST /uploads", "GET /uploads/{}", "POST /uploads/{}",
	"GET /emoji", "POST /emoji", "GET /emoji/{}", "DELETE /emoji/{}", "GET /emoji/name/{}", "POST /emoji/search",
	"GET /emoji/autocomplete", "GET /emoji/{}/image", "POST /drafts",
	// system and administration
	"GET /config/client", "GET /config/environment", "GET /license",
	"GET /license/client", "POST /license", "DELETE /license", "GET /system/timezones",
	"GET /system/notices/{}", "POST /system/notices/view", "GET /system/onboarding/complete",
	"POST /system/onboarding/complete", "GET /logs", "POST /logs", "GET /analytics/old", "POST /email/test",
	"POST /site_url/test", "POST /file/s3_test", "GET /audits",
	"POST /jobs", "GET /jobs/{}", "GET /plugins", "POST /plugins", "GET /plugins/webapp",
	"GET /plugins/statuses", "GET /roles", "GET /roles/{}", "GET /roles/name/{}", "POST /roles/names",
	"GET /schemes", "GET /bots", "POST /bots", "GET /commands", "POST /commands", "POST /commands/execute",
	"GET /hooks/incoming", "POST /hooks/incoming", "GET /hooks/outgoing", "POST /hooks/outgoing",
	"GET /oauth/apps", "POST /oauth/apps", "GET /groups", "GET /terms_of_service", "POST /terms_of_service",
	"GET /brand/image", "POST /brand/image", "GET /redirect_location", "GET /data_retention/policy",
	"GET /limits/server", "GET /usage/posts",
}

// notImplementedIndex maps "METHOD" and a segment count to the routes of
// notImplementedRoutes with that many segments, split; built once.
var notImplementedIndex = func() map[string][][]string {
	idx := make(map[string][][]string)
	for _, route := range notImplementedRoutes {
		method, path, _ := strings.Cut(route, " ")
		segs := strings.Split(strings.Trim(path, "/"), "/")
		key := method + " " + string(rune('0'+len(segs)))
		idx[key] = append(idx[key], segs)
	}
	return idx
}()

// isNotImplemented reports whether method and path (under /api/v4) name a
// route of notImplementedRoutes.
func isNotImplemented(method, path string) bool {
	rest, ok := strings.CutPrefix(path, "/api/v4/")
	if !ok || rest == "" {
		return false
	}
	segs := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	if len(segs) > 9 {
		return false
	}
	for _, route := range notImplementedIndex[method+" "+string(rune('0'+len(segs)))] {
		if matchSegments(route, segs) {
			return true
		}
	}
	return false
}

// matchSegments reports whether segs match route, "{}" matching any
// non-empty segment.
func matchSegments(route, segs []string) bool {
	for i, r := range route {
		if segs[i] == "" || (r != "{}" && r != segs[i]) {
			return false
		}
	}
	return true
}

// notImplementedError is the 501 of a Mattermost feature Chorus does not
// have; what names it.
func notImplementedError(what string) *AppError {
	return &AppError{ID: "api.chorus.not_implemented.app_error",
		Message:       "This Mattermost API is not implemented by Chorus.",
		DetailedError: what, StatusCode: http.StatusNotImplemented}
}
