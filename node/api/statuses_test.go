package api_test

import (
	"net/http"
	"testing"

	"github.com/seed331fb32b/chorus/node/app"
)

func TestGetUserStatus(t *testing.T) {
	runEndpointCases(t, []endpointCase{
		{name: "a user without status is offline", as: asAlice, method: http.MethodGet,
			target: func(w *world) string { return "/api/v4/users/" + w.bob.user.ID + "/status" }, want: http.StatusOK,
			check: func(t *testing.T, w *world, b []byte) {
				m := decode(t, b)
				if m["user_id"] != w.bob.user.ID || m["status"] != "offline" || m["manual"] != false {
					t.Errorf("status = %v", m)
				}
				if _, ok := m["dnd_end_time"]; !ok {
					t.Errorf("status lacks dnd_end_time: %v", m)
				}
			}},
		{name: "a status set by hand is read back", as: asBob, method: http.MethodGet, target: path("/api/v4/users/me/status"),
			want: http.StatusOK, check: func(t *testing.T, w *world, b []byte) {
				w.mustDo(t, w.bob, http.MethodPut, "/api/v4/users/me/status", map[string]any{"user_id": w.bob.user.ID, "status": "away"}, http.StatusOK)
				st := decodeAs[app.UserStatus](t, w.mustDo(t, w.alice, http.MethodGet, "/api/v4/users/"+w.bob.user.ID+"/status", nil, http.StatusOK))
				if st.Status != "away" || !st.Manual {
					t.Errorf("status after PUT away = %+v", st)
				}
			}},
		{name: "invalid id", as: asAlice, method: http.MethodGet, target: path("/api/v4/users/x/status"),
			want: http.StatusBadRequest, wantID: "api.context.invalid_url_param.app_error"},
		{name: "no session", method: http.MethodGet, target: path("/api/v4/users/me/status"),
			want: http.StatusUnauthorized, wantID: "api.context.session_expired.app_error"},
	})
}

func statusBody(id func(*world) string, status string) func(*world) any {
	return func(w *world) any {
		return map[string]any{"user_id": id(w), "status": status, "dnd_end_time": 1893456000}
	}
}

func TestUpdateUserStatus(t *testing.T) {
	bobStatus := func(w *world) string { return "/api/v4/users/" + w.bob.user.ID + "/status" }
	runEndpointCases(t, []endpointCase{
		{name: "a user sets their own status", as: asBob, method: http.MethodPut, target: bobStatus, body: statusBody(bobID, "dnd"),
			want: http.StatusOK, check: func(t *testing.T, w *world, b []byte) {
				st := decodeAs[app.UserStatus](t, b)
				if st.UserID != w.bob.user.ID || st.Status != "dnd" || !st.Manual || st.DNDEndTime != 1893456000 {
					t.Errorf("status = %+v", st)
				}
			}},
		{name: "online is never manual", as: asBob, method: http.MethodPut, target: bobStatus, body: statusBody(bobID, "online"),
			want: http.StatusOK, check: func(t *testing.T, w *world, b []byte) {
				if st := decodeAs[app.UserStatus](t, b); st.Status != "online" || st.Manual {
					t.Errorf("status = %+v", st)
				}
			}},
		{name: "a system admin sets anyone's", as: asAdmin, method: http.MethodPut, target: bobStatus, body: statusBody(bobID, "offline"), want: http.StatusOK},
		{name: "not another user's", as: asAlice, method: http.MethodPut, target: bobStatus, body: statusBody(bobID, "away"),
			want: http.StatusForbidden, wantID: "api.context.permissions.app_error"},
		{name: "an unknown status", as: asBob, method: http.MethodPut, target: bobStatus, body: statusBody(bobID, "busy"),
			want: http.StatusBadRequest, wantID: "api.context.invalid_body_param.app_error"},
		{name: "the body names another user", as: asBob, method: http.MethodPut, target: bobStatus, body: statusBody(aliceID, "away"),
			want: http.StatusBadRequest, wantID: "api.context.invalid_body_param.app_error"},
		{name: "malformed JSON", as: asBob, method: http.MethodPut, target: bobStatus, body: body(`{"status": true}`),
			want: http.StatusBadRequest, wantID: "api.context.invalid_body_param.app_error"},
		{name: "no session", method: http.MethodPut, target: bobStatus, body: statusBody(bobID, "away"),
			want: http.StatusUnauthorized, wantID: "api.context.session_expired.app_error"},
	})
}

func TestGetUserStatusesByIDs(t *testing.T) {
	runEndpointCases(t, []endpointCase{
		{name: "statuses in the order asked, offline by default", as: asAlice, method: http.MethodPost, target: path("/api/v4/users/status/ids"),
			body: func(w *world) any { return []string{w.bob.user.ID, w.alice.user.ID} }, want: http.StatusOK,
			check: func(t *testing.T, w *world, b []byte) {
				got := decodeAs[[]app.UserStatus](t, b)
				if len(got) != 2 || got[0].UserID != w.bob.user.ID || got[1].UserID != w.alice.user.ID || got[0].Status != "offline" {
					t.Errorf("statuses = %+v", got)
				}
			}},
		{name: "no ids", as: asAlice, method: http.MethodPost, target: path("/api/v4/users/status/ids"), body: body(`[]`),
			want: http.StatusBadRequest, wantID: "api.context.invalid_body_param.app_error"},
		{name: "no session", method: http.MethodPost, target: path("/api/v4/users/status/ids"),
			body: func(w *world) any { return []string{w.bob.user.ID} }, want: http.StatusUnauthorized, wantID: "api.context.session_expired.app_error"},
	})
}
