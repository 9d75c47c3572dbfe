package api_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/seed331fb32b/chorus/node/app"
)

func newTeamBody(name, kind string) func(*world) any {
	return body(map[string]string{"name": name, "display_name": "Team " + name, "type": kind})
}

func TestCreateTeam(t *testing.T) {
	runEndpointCases(t, []endpointCase{
		{name: "any user makes a team, joins it as admin, with its default channels", as: asBob, method: http.MethodPost,
			target: path("/api/v4/teams"), body: newTeamBody("bobs", "O"), want: http.StatusCreated,
			check: func(t *testing.T, w *world, b []byte) {
				team := decodeAs[app.Team](t, b)
				if team.Name != "bobs" || team.Type != "O" || !team.AllowOpenInvite || team.Email != "bob@example.com" || !app.IsValidID(team.InviteID) {
					t.Errorf("team = %+v", team)
				}
				channels := decodeAs[[]app.Channel](t, w.mustDo(t, w.bob, http.MethodGet,
					"/api/v4/users/me/teams/"+team.ID+"/channels", nil, http.StatusOK))
				var names []string
				for _, c := range channels {
					names = append(names, c.Name)
				}
				if !slices.Equal(names, []string{"off-topic", "town-square"}) {
					t.Errorf("creator's channels = %q, want off-topic and town-square", names)
				}
				got := decodeAs[app.Team](t, w.mustDo(t, w.bob, http.MethodGet, "/api/v4/teams/"+team.ID, nil, http.StatusOK))
				if got.InviteID != team.InviteID {
					t.Error("the team's admin does not see its invite id")
				}
			}},
		{name: "invite-only team", as: asBob, method: http.MethodPost, target: path("/api/v4/teams"),
			body: newTeamBody("closed", "I"), want: http.StatusCreated},
		{name: "invalid name", as: asBob, method: http.MethodPost, target: path("/api/v4/teams"),
			body: newTeamBody("Not Valid", "O"), want: http.StatusBadRequest, wantID: "model.team.is_valid.url.app_error"},
		{name: "reserved name", as: asBob, method: http.MethodPost, target: path("/api/v4/teams"),
			body: newTeamBody("api", "O"), want: http.StatusBadRequest, wantID: "model.team.is_valid.reserved.app_error"},
		{name: "invalid type", as: asBob, method: http.MethodPost, target: path("/api/v4/teams"),
			body: newTeamBody("typo", "X"), want: http.StatusBadRequest, wantID: "model.team.is_valid.type.app_error"},
		{name: "taken name", as: asBob, method: http.MethodPost, target: path("/api/v4/teams"),
			body: newTeamBody("core", "O"), want: http.StatusBadRequest, wantID: "store.sql_team.save_team.existing.app_error"},
		{name: "malformed JSON", as: asBob, method: http.MethodPost, target: path("/api/v4/teams"),
			body: body(`{"name": 5}`), want: http.StatusBadRequest, wantID: "api.context.invalid_body_param.app_error"},
		{name: "no session", method: http.MethodPost, target: path("/api/v4/teams"),
			body: newTeamBody("anon", "O"), want: http.StatusUnauthorized, wantID: "api.context.session_expired.app_error"},
	})
}

func teamPath(suffix string, team func(*world) app.Team) func(*world) string {
	return func(w *world) string { return "/api/v4/teams/" + team(w).ID + suffix }
}

func core(w *world) app.Team { return w.team }
func club(w *world) app.Team { return w.otherTeam }

func TestGetTeam(t *testing.T) {
	runEndpointCases(t, []endpointCase{
		{name: "a member who is not its admin gets it without invite id", as: asBob, method: http.MethodGet,
			target: teamPath("", core), want: http.StatusOK, check: func(t *testing.T, w *world, b []byte) {
				if team := decodeAs[app.Team](t, b); team.ID != w.team.ID || team.InviteID != "" || team.Email != "" {
					t.Errorf("team = %+v, want it without invite id and email", team)
				}
			}},
		{name: "anyone may see an open team", as: asEve, method: http.MethodGet, target: teamPath("", core), want: http.StatusOK},
		{name: "a system admin sees everything", as: asAdmin, method: http.MethodGet, target: teamPath("", club), want: http.StatusOK,
			check: func(t *testing.T, w *world, b []byte) {
				if team := decodeAs[app.Team](t, b); team.InviteID == "" {
					t.Error("the system admin does not see the invite id")
				}
			}},
		{name: "an invite-only team is hidden from others", as: asAlice, method: http.MethodGet, target: teamPath("", club),
			want: http.StatusForbidden, wantID: "api.context.permissions.app_error"},
		{name: "invalid id", as: asAlice, method: http.MethodGet, target: path("/api/v4/teams/x"),
			want: http.StatusBadRequest, wantID: "api.context.invalid_url_param.app_error"},
		{name: "unknown team", as: asAlice, method: http.MethodGet, target: path("/api/v4/teams/" + app.NewID()),
			want: http.StatusNotFound, wantID: "app.team.get.find.app_error"},
		{name: "no session", method: http.MethodGet, target: teamPath("", core), want: http.StatusUnauthorized, wantID: "api.context.session_expired.app_error"},
	})
}

func memberBody(teamID func(*world) string, userID func(*world) string) func(*world) any {
	return func(w *world) any { return map[string]string{"team_id": teamID(w), "user_id": userID(w)} }
}

func coreID(w *world) string  { return w.team.ID }
func eveID(w *world) string   { return w.eve.user.ID }
func bobID(w *world) string   { return w.bob.user.ID }
func aliceID(w *world) string { return w.alice.user.ID }

func TestAddTeamMember(t *testing.T) {
	runEndpointCases(t, []endpointCase{
		{name: "a member adds someone, who joins the default channels", as: asBob, method: http.MethodPost,
			target: teamPath("/members", core), body: memberBody(coreID, eveID), want: http.StatusCreated,
			check: func(t *testing.T, w *world, b []byte) {
				m := decode(t, b)
				if m["team_id"] != w.team.ID || m["user_id"] != w.eve.user.ID || m["roles"] != "team_user" || m["scheme_user"] != true {
					t.Errorf("member = %v", m)
				}
				channels := decodeAs[[]app.Channel](t, w.mustDo(t, w.eve, http.MethodGet,
					"/api/v4/users/me/teams/"+w.team.ID+"/channels", nil, http.StatusOK))
				if len(channels) != 2 {
					t.Errorf("the new member is in %d channels, want town-square and off-topic", len(channels))
				}
			}},
		{name: "anyone joins an open team", as: asEve, method: http.MethodPost, target: teamPath("/members", core),
			body: memberBody(coreID, eveID), want: http.StatusCreated},
		{name: "adding a member again returns the membership", as: asAlice, method: http.MethodPost, target: teamPath("/members", core),
			body: memberBody(coreID, bobID), want: http.StatusCreated},
		{name: "nobody joins an invite-only team alone", as: asAlice, method: http.MethodPost, target: teamPath("/members", club),
			body: memberBody(func(w *world) string { return w.otherTeam.ID }, aliceID), want: http.StatusForbidden, wantID: "api.context.permissions.app_error"},
		{name: "only members add others", as: asEve, method: http.MethodPost, target: teamPath("/members", core),
			body: memberBody(coreID, func(w *world) string { return w.admin.user.ID }), want: http.StatusForbidden, wantID: "api.context.permissions.app_error"},
		{name: "the body names another team", as: asAlice, method: http.MethodPost, target: teamPath("/members", core),
			body: memberBody(func(w *world) string { return w.otherTeam.ID }, eveID), want: http.StatusBadRequest, wantID: "api.context.invalid_body_param.app_error"},
		{name: "invalid user id", as: asAlice, method: http.MethodPost, target: teamPath("/members", core),
			body: memberBody(coreID, func(*world) string { return "nope" }), want: http.StatusBadRequest, wantID: "api.context.invalid_body_param.app_error"},
		{name: "unknown user", as: asAlice, method: http.MethodPost, target: teamPath("/members", core),
			body: memberBody(coreID, func(*world) string { return app.NewID() }), want: http.StatusNotFound, wantID: "app.user.missing_account.const"},
		{name: "no session", method: http.MethodPost, target: teamPath("/members", core), body: memberBody(coreID, eveID),
			want: http.StatusUnauthorized, wantID: "api.context.session_expired.app_error"},
	})
}

func TestGetTeamsForUser(t *testing.T) {
	runEndpointCases(t, []endpointCase{
		{name: "a user's own teams", as: asAlice, method: http.MethodGet, target: path("/api/v4/users/me/teams"), want: http.StatusOK,
			check: func(t *testing.T, w *world, b []byte) {
				teams := decodeAs[[]app.Team](t, b)
				if len(teams) != 1 || teams[0].ID != w.team.ID {
					t.Errorf("teams = %+v, want only core", teams)
				}
			}},
		{name: "a system admin reads anyone's", as: asAdmin, method: http.MethodGet,
			target: func(w *world) string { return "/api/v4/users/" + w.eve.user.ID + "/teams" }, want: http.StatusOK},
		{name: "not another user's", as: asBob, method: http.MethodGet,
			target: func(w *world) string { return "/api/v4/users/" + w.alice.user.ID + "/teams" },
			want:   http.StatusForbidden, wantID: "api.context.permissions.app_error"},
		{name: "invalid id", as: asBob, method: http.MethodGet, target: path("/api/v4/users/x/teams"),
			want: http.StatusBadRequest, wantID: "api.context.invalid_url_param.app_error"},
		{name: "no session", method: http.MethodGet, target: path("/api/v4/users/me/teams"),
			want: http.StatusUnauthorized, wantID: "api.context.session_expired.app_error"},
	})
}
