package api_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/seed331fb32b/chorus/node/app"
)

func newChannelBody(name, kind string) func(*world) any {
	return func(w *world) any {
		return map[string]string{"team_id": w.team.ID, "name": name, "display_name": "Channel " + name, "type": kind, "purpose": "p"}
	}
}

func TestCreateChannel(t *testing.T) {
	runEndpointCases(t, []endpointCase{
		{name: "a team member makes an open channel and is its admin", as: asBob, method: http.MethodPost,
			target: path("/api/v4/channels"), body: newChannelBody("bobs-corner", "O"), want: http.StatusCreated,
			check: func(t *testing.T, w *world, b []byte) {
				c := decodeAs[app.Channel](t, b)
				if c.Name != "bobs-corner" || c.Type != "O" || c.TeamID != w.team.ID || c.CreatorID != w.bob.user.ID || c.Purpose != "p" {
					t.Errorf("channel = %+v", c)
				}
				w.mustDo(t, w.bob, http.MethodGet, "/api/v4/channels/"+c.ID, nil, http.StatusOK)
			}},
		{name: "private channel", as: asBob, method: http.MethodPost, target: path("/api/v4/channels"),
			body: newChannelBody("hush", "P"), want: http.StatusCreated},
		{name: "direct channels have their own route", as: asBob, method: http.MethodPost, target: path("/api/v4/channels"),
			body: newChannelBody("dm", "D"), want: http.StatusBadRequest, wantID: "api.channel.create_channel.direct_channel.app_error"},
		{name: "invalid name", as: asBob, method: http.MethodPost, target: path("/api/v4/channels"),
			body: newChannelBody("Bad Name", "O"), want: http.StatusBadRequest, wantID: "model.channel.is_valid.name.app_error"},
		{name: "taken name", as: asBob, method: http.MethodPost, target: path("/api/v4/channels"),
			body: newChannelBody("dev", "O"), want: http.StatusBadRequest, wantID: "store.sql_channel.save_channel.exists.app_error"},
		{name: "malformed JSON", as: asBob, method: http.MethodPost, target: path("/api/v4/channels"),
			body: body(`not json`), want: http.StatusBadRequest, wantID: "api.context.invalid_body_param.app_error"},
		{name: "not a member of the team", as: asEve, method: http.MethodPost, target: path("/api/v4/channels"),
			body: newChannelBody("intrusion", "O"), want: http.StatusForbidden, wantID: "api.context.permissions.app_error"},
		{name: "no session", method: http.MethodPost, target: path("/api/v4/channels"),
			body: newChannelBody("anon", "O"), want: http.StatusUnauthorized, wantID: "api.context.session_expired.app_error"},
	})
}

func channelPath(suffix string, c func(*world) app.Channel) func(*world) string {
	return func(w *world) string { return "/api/v4/channels/" + c(w).ID + suffix }
}

func dev(w *world) app.Channel    { return w.channel }
func secret(w *world) app.Channel { return w.private }
func lounge(w *world) app.Channel { return w.lounge }

func TestGetChannel(t *testing.T) {
	runEndpointCases(t, []endpointCase{
		{name: "a member reads it", as: asBob, method: http.MethodGet, target: channelPath("", dev), want: http.StatusOK,
			check: func(t *testing.T, w *world, b []byte) {
				if c := decodeAs[app.Channel](t, b); c.ID != w.channel.ID || c.DisplayName != "Dev" {
					t.Errorf("channel = %+v", c)
				}
			}},
		{name: "a team member reads an open channel they are not in", as: asBob, method: http.MethodGet, target: channelPath("", lounge), want: http.StatusOK},
		{name: "a system admin reads any", as: asAdmin, method: http.MethodGet, target: channelPath("", secret), want: http.StatusOK},
		{name: "a private channel is for its members", as: asBob, method: http.MethodGet, target: channelPath("", secret),
			want: http.StatusForbidden, wantID: "api.context.permissions.app_error"},
		{name: "an open channel is for its team", as: asEve, method: http.MethodGet, target: channelPath("", dev),
			want: http.StatusForbidden, wantID: "api.context.permissions.app_error"},
		{name: "invalid id", as: asBob, method: http.MethodGet, target: path("/api/v4/channels/nope"),
			want: http.StatusBadRequest, wantID: "api.context.invalid_url_param.app_error"},
		{name: "unknown channel", as: asBob, method: http.MethodGet, target: path("/api/v4/channels/" + app.NewID()),
			want: http.StatusNotFound, wantID: "app.channel.get.existing.app_error"},
		{name: "no session", method: http.MethodGet, target: channelPath("", dev), want: http.StatusUnauthorized, wantID: "api.context.session_expired.app_error"},
	})
}

func userBody(id func(*world) string) func(*world) any {
	return func(w *world) any { return map[string]string{"user_id": id(w)} }
}

func TestAddChannelMember(t *testing.T) {
	runEndpointCases(t, []endpointCase{
		{name: "a team member joins an open channel", as: asBob, method: http.MethodPost, target: channelPath("/members", lounge),
			body: userBody(bobID), want: http.StatusCreated, check: func(t *testing.T, w *world, b []byte) {
				m := decode(t, b)
				if m["channel_id"] != w.lounge.ID || m["user_id"] != w.bob.user.ID || m["roles"] != "channel_user" || m["notify_props"] == nil {
					t.Errorf("member = %v", m)
				}
				w.post(t, w.bob, w.lounge.ID, "hello lounge")
			}},
		{name: "a member adds someone to a private channel", as: asAlice, method: http.MethodPost, target: channelPath("/members", secret),
			body: userBody(bobID), want: http.StatusCreated},
		{name: "adding a member again returns the membership", as: asAlice, method: http.MethodPost, target: channelPath("/members", dev),
			body: userBody(bobID), want: http.StatusCreated},
		{name: "nobody joins a private channel alone", as: asBob, method: http.MethodPost, target: channelPath("/members", secret),
			body: userBody(bobID), want: http.StatusForbidden, wantID: "api.context.permissions.app_error"},
		{name: "only members add others", as: asBob, method: http.MethodPost, target: channelPath("/members", lounge),
			body: userBody(func(w *world) string { return w.admin.user.ID }), want: http.StatusForbidden, wantID: "api.context.permissions.app_error"},
		{name: "someone outside the team cannot join", as: asEve, method: http.MethodPost, target: channelPath("/members", dev),
			body: userBody(eveID), want: http.StatusForbidden, wantID: "api.context.permissions.app_error"},
		{name: "someone outside the team cannot be added", as: asAlice, method: http.MethodPost, target: channelPath("/members", dev),
			body: userBody(eveID), want: http.StatusNotFound, wantID: "app.team.get_member.missing.app_error"},
		{name: "invalid user id", as: asAlice, method: http.MethodPost, target: channelPath("/members", dev),
			body: body(map[string]string{"user_id": "x"}), want: http.StatusBadRequest, wantID: "api.context.invalid_body_param.app_error"},
		{name: "unknown channel", as: asAlice, method: http.MethodPost, target: path("/api/v4/channels/" + app.NewID() + "/members"),
			body: userBody(bobID), want: http.StatusNotFound, wantID: "app.channel.get.existing.app_error"},
		{name: "no session", method: http.MethodPost, target: channelPath("/members", dev), body: userBody(bobID),
			want: http.StatusUnauthorized, wantID: "api.context.session_expired.app_error"},
	})
}

func TestGetChannelsForTeamForUser(t *testing.T) {
	names := func(t *testing.T, b []byte) []string {
		var out []string
		for _, c := range decodeAs[[]app.Channel](t, b) {
			out = append(out, c.Name)
		}
		return out
	}
	runEndpointCases(t, []endpointCase{
		{name: "a member's channels of the team, by display name", as: asAlice, method: http.MethodGet,
			target: func(w *world) string { return "/api/v4/users/me/teams/" + w.team.ID + "/channels" }, want: http.StatusOK,
			check: func(t *testing.T, w *world, b []byte) {
				if got := names(t, b); !slices.Equal(got, []string{"dev", "lounge", "off-topic", "secret", "town-square"}) {
					t.Errorf("channels = %q", got)
				}
			}},
		{name: "only the channels the user is in", as: asBob, method: http.MethodGet,
			target: func(w *world) string { return "/api/v4/users/" + w.bob.user.ID + "/teams/" + w.team.ID + "/channels" }, want: http.StatusOK,
			check: func(t *testing.T, w *world, b []byte) {
				if got := names(t, b); !slices.Equal(got, []string{"dev", "off-topic", "town-square"}) {
					t.Errorf("channels = %q", got)
				}
			}},
		{name: "not another user's", as: asBob, method: http.MethodGet,
			target: func(w *world) string { return "/api/v4/users/" + w.alice.user.ID + "/teams/" + w.team.ID + "/channels" },
			want:   http.StatusForbidden, wantID: "api.context.permissions.app_error"},
		{name: "not of a team the user is not in", as: asEve, method: http.MethodGet,
			target: func(w *world) string { return "/api/v4/users/me/teams/" + w.team.ID + "/channels" },
			want:   http.StatusForbidden, wantID: "api.context.permissions.app_error"},
		{name: "invalid team id", as: asAlice, method: http.MethodGet, target: path("/api/v4/users/me/teams/x/channels"),
			want: http.StatusBadRequest, wantID: "api.context.invalid_url_param.app_error"},
		{name: "no session", method: http.MethodGet,
			target: func(w *world) string { return "/api/v4/users/me/teams/" + w.team.ID + "/channels" },
			want:   http.StatusUnauthorized, wantID: "api.context.session_expired.app_error"},
	})
}
