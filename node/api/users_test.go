package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/seed331fb32b/chorus/node/app"
)

func TestFirstUserBecomesSystemAdmin(t *testing.T) {
	n := newTestNodeWith(t, `"TeamSettings": {"EnableOpenServer": false}`)
	first := n.signup(t, "", "founder")
	if !first.user.IsSystemAdmin() || first.user.Roles != "system_admin system_user" {
		t.Errorf("first user's roles = %q, want system_admin system_user", first.user.Roles)
	}
	res, body := n.do(t, http.MethodPost, "/api/v4/users", "", map[string]string{"username": "second", "email": "second@example.com", "password": password})
	if res.StatusCode != http.StatusForbidden || decode(t, body)["id"] != "api.user.create_user.no_open_server" {
		t.Errorf("second sign-up on a closed server = %d %s, want 403 api.user.create_user.no_open_server", res.StatusCode, body)
	}
	res, body = n.do(t, http.MethodPost, "/api/v4/users", first.token, map[string]string{"username": "second", "email": "second@example.com", "password": password})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("account made by the admin on a closed server = %d %s, want 201", res.StatusCode, body)
	}
	if u := decodeAs[app.User](t, body); u.Roles != "system_user" {
		t.Errorf("second user's roles = %q, want system_user", u.Roles)
	}
}

func TestSignUpDisabled(t *testing.T) {
	n := newTestNodeWith(t, `"TeamSettings": {"EnableOpenServer": true, "EnableUserCreation": false}`)
	res, body := n.do(t, http.MethodPost, "/api/v4/users", "", map[string]string{"username": "x", "email": "x@example.com", "password": password})
	if res.StatusCode != http.StatusNotImplemented || decode(t, body)["id"] != "api.user.create_user.signup_email_disabled.app_error" {
		t.Errorf("sign-up with user creation off = %d %s, want 501", res.StatusCode, body)
	}
}

func newUserBody(username string) func(*world) any {
	return body(map[string]string{"username": username, "email": username + "@example.com", "password": password})
}

func TestCreateUser(t *testing.T) {
	runEndpointCases(t, []endpointCase{
		{name: "open sign-up makes a system user without password", method: http.MethodPost, target: path("/api/v4/users"),
			body: newUserBody("Zoe"), want: http.StatusCreated, check: func(t *testing.T, _ *world, b []byte) {
				m := decode(t, b)
				if m["username"] != "zoe" || m["email"] != "zoe@example.com" || m["roles"] != "system_user" || !app.IsValidID(m["id"].(string)) {
					t.Errorf("user = %v", m)
				}
				for _, secret := range []string{"password", "mfa_secret"} {
					if _, ok := m[secret]; ok {
						t.Errorf("user carries %s", secret)
					}
				}
			}},
		{name: "a session is not needed and an invalid one is ignored", as: func(*world) *account { return &account{token: "yyyyyyyyyyyyyyyyyyyyyyyyyy"} },
			method: http.MethodPost, target: path("/api/v4/users"), body: newUserBody("carol"), want: http.StatusCreated},
		{name: "malformed JSON", method: http.MethodPost, target: path("/api/v4/users"), body: body(`{"username":`),
			want: http.StatusBadRequest, wantID: "api.context.invalid_body_param.app_error"},
		{name: "invalid username", method: http.MethodPost, target: path("/api/v4/users"), body: newUserBody("no spaces"),
			want: http.StatusBadRequest, wantID: "model.user.is_valid.username.app_error"},
		{name: "reserved username", method: http.MethodPost, target: path("/api/v4/users"), body: newUserBody("channel"),
			want: http.StatusBadRequest, wantID: "model.user.is_valid.username.app_error"},
		{name: "invalid email", method: http.MethodPost, target: path("/api/v4/users"),
			body: body(map[string]string{"username": "dan", "email": "nope", "password": password}),
			want: http.StatusBadRequest, wantID: "model.user.is_valid.email.app_error"},
		{name: "short password", method: http.MethodPost, target: path("/api/v4/users"),
			body: body(map[string]string{"username": "dan", "email": "dan@example.com", "password": "short"}),
			want: http.StatusBadRequest, wantID: "model.user.is_valid.pwd_min_length.app_error"},
		{name: "taken username", method: http.MethodPost, target: path("/api/v4/users"),
			body: body(map[string]string{"username": "alice", "email": "other@example.com", "password": password}),
			want: http.StatusBadRequest, wantID: "app.user.save.username_exists.app_error"},
		{name: "taken email", method: http.MethodPost, target: path("/api/v4/users"),
			body: body(map[string]string{"username": "alice2", "email": "ALICE@example.com", "password": password}),
			want: http.StatusBadRequest, wantID: "app.user.save.email_exists.app_error"},
		{name: "invitations are not implemented", method: http.MethodPost, target: path("/api/v4/users?t=abc"),
			body: newUserBody("frank"), want: http.StatusNotImplemented, wantID: "api.chorus.not_implemented.app_error"},
	})
}

func TestLogin(t *testing.T) {
	runEndpointCases(t, []endpointCase{
		{name: "username and password give the token header and cookies", method: http.MethodPost, target: path("/api/v4/users/login"),
			body: body(map[string]string{"login_id": "alice", "password": password, "deviceId": ""}), want: http.StatusOK,
			check: func(t *testing.T, w *world, b []byte) {
				if u := decodeAs[app.User](t, b); u.ID != w.alice.user.ID {
					t.Errorf("login returned %s, want alice", u.ID)
				}
			}},
		{name: "email works as login id, in any case", method: http.MethodPost, target: path("/api/v4/users/login"),
			body: body(map[string]string{"login_id": "Alice@Example.com", "password": password}), want: http.StatusOK},
		{name: "user id works with id", method: http.MethodPost, target: path("/api/v4/users/login"),
			body: func(w *world) any { return map[string]string{"id": w.bob.user.ID, "password": password} }, want: http.StatusOK},
		{name: "wrong password", method: http.MethodPost, target: path("/api/v4/users/login"),
			body: body(map[string]string{"login_id": "alice", "password": "wrong-password"}),
			want: http.StatusUnauthorized, wantID: "api.user.login.invalid_credentials_email_username"},
		{name: "unknown user gets the same answer", method: http.MethodPost, target: path("/api/v4/users/login"),
			body: body(map[string]string{"login_id": "nobody", "password": password}),
			want: http.StatusUnauthorized, wantID: "api.user.login.invalid_credentials_email_username"},
		{name: "missing password", method: http.MethodPost, target: path("/api/v4/users/login"),
			body: body(map[string]string{"login_id": "alice"}), want: http.StatusBadRequest, wantID: "api.context.invalid_body_param.app_error"},
		{name: "malformed JSON", method: http.MethodPost, target: path("/api/v4/users/login"),
			body: body(`[1,2]`), want: http.StatusBadRequest, wantID: "api.context.invalid_body_param.app_error"},
	})
}

func TestLoginSetsMattermostCookies(t *testing.T) {
	n := newTestNode(t, testService)
	n.signup(t, "", "alice")
	res, _ := n.do(t, http.MethodPost, "/api/v4/users/login", "", map[string]string{"login_id": "alice", "password": password})
	token := res.Header.Get("Token")
	if !app.IsValidID(token) {
		t.Fatalf("Token header = %q, want a 26-character token", token)
	}
	cookies := map[string]*http.Cookie{}
	for _, c := range res.Cookies() {
		cookies[c.Name] = c
	}
	for _, name := range []string{"MMAUTHTOKEN", "MMUSERID", "MMCSRF"} {
		c := cookies[name]
		if c == nil || c.Value == "" || c.Path != "/" || c.MaxAge != 720*3600 {
			t.Fatalf("cookie %s = %+v, want a value for 30 days on /", name, c)
		}
		if c.HttpOnly != (name == "MMAUTHTOKEN") {
			t.Errorf("cookie %s HttpOnly = %v", name, c.HttpOnly)
		}
	}
	if cookies["MMAUTHTOKEN"].Value != token {
		t.Error("MMAUTHTOKEN differs from the Token header")
	}
}

func TestLoginLocksAfterTooManyWrongPasswords(t *testing.T) {
	n := newTestNodeWith(t, `"ServiceSettings": {"MaximumLoginAttempts": 3}, "TeamSettings": {"EnableOpenServer": true}`)
	n.signup(t, "", "alice")
	for range 3 {
		n.do(t, http.MethodPost, "/api/v4/users/login", "", map[string]string{"login_id": "alice", "password": "wrong-password"})
	}
	res, body := n.do(t, http.MethodPost, "/api/v4/users/login", "", map[string]string{"login_id": "alice", "password": password})
	if res.StatusCode != http.StatusUnauthorized || decode(t, body)["id"] != "api.user.check_user_login_attempts.too_many.app_error" {
		t.Errorf("login after 3 wrong passwords = %d %s, want 401 too_many", res.StatusCode, body)
	}
}

func TestLogout(t *testing.T) {
	n := newTestNode(t, testService)
	alice := n.signup(t, "", "alice")
	res, body := n.do(t, http.MethodPost, "/api/v4/users/logout", alice.token, nil)
	if res.StatusCode != http.StatusOK || string(body) != `{"status":"OK"}` {
		t.Fatalf("logout = %d %s", res.StatusCode, body)
	}
	for _, c := range res.Cookies() {
		if c.MaxAge >= 0 {
			t.Errorf("cookie %s not cleared: %+v", c.Name, c)
		}
	}
	if res, body := n.do(t, http.MethodGet, "/api/v4/users/me", alice.token, nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET me with a logged-out token = %d %s, want 401", res.StatusCode, body)
	}
	if res, body := n.do(t, http.MethodPost, "/api/v4/users/logout", "", nil); res.StatusCode != http.StatusOK {
		t.Errorf("logout without a session = %d %s, want 200 as Mattermost", res.StatusCode, body)
	}
}

func TestGetUser(t *testing.T) {
	runEndpointCases(t, []endpointCase{
		{name: "me is the session's user, with its own fields", as: asAlice, method: http.MethodGet, target: path("/api/v4/users/me"),
			want: http.StatusOK, check: func(t *testing.T, w *world, b []byte) {
				m := decode(t, b)
				if m["id"] != w.alice.user.ID || m["notify_props"] == nil || m["auth_data"] != "" {
					t.Errorf("me = %v", m)
				}
			}},
		{name: "another user's profile has no private fields", as: asAlice, method: http.MethodGet,
			target: func(w *world) string { return "/api/v4/users/" + w.bob.user.ID }, want: http.StatusOK,
			check: func(t *testing.T, w *world, b []byte) {
				m := decode(t, b)
				if m["username"] != "bob" || m["email"] != "bob@example.com" {
					t.Errorf("profile = %v", m)
				}
				if _, ok := m["notify_props"]; ok {
					t.Errorf("profile carries notify_props: %v", m)
				}
			}},
		{name: "invalid id", as: asAlice, method: http.MethodGet, target: path("/api/v4/users/bad-id"),
			want: http.StatusBadRequest, wantID: "api.context.invalid_url_param.app_error"},
		{name: "unknown user", as: asAlice, method: http.MethodGet, target: path("/api/v4/users/" + app.NewID()),
			want: http.StatusNotFound, wantID: "app.user.missing_account.const"},
		{name: "no session", method: http.MethodGet, target: path("/api/v4/users/me"),
			want: http.StatusUnauthorized, wantID: "api.context.session_expired.app_error"},
	})
}

func TestGetUsersByIDs(t *testing.T) {
	runEndpointCases(t, []endpointCase{
		{name: "existing users in the order asked, unknown ids left out", as: asAlice, method: http.MethodPost,
			target: path("/api/v4/users/ids"), body: func(w *world) any { return []string{w.bob.user.ID, app.NewID(), w.alice.user.ID} },
			want: http.StatusOK, check: func(t *testing.T, w *world, b []byte) {
				var names []string
				for _, u := range decodeAs[[]app.User](t, b) {
					names = append(names, u.Username)
				}
				if !slices.Equal(names, []string{"bob", "alice"}) {
					t.Errorf("users = %q, want [bob alice]", names)
				}
			}},
		{name: "not an array", as: asAlice, method: http.MethodPost, target: path("/api/v4/users/ids"), body: body(`{"ids":[]}`),
			want: http.StatusBadRequest, wantID: "api.context.invalid_body_param.app_error"},
		{name: "empty array", as: asAlice, method: http.MethodPost, target: path("/api/v4/users/ids"), body: body(`[]`),
			want: http.StatusBadRequest, wantID: "api.context.invalid_body_param.app_error"},
		{name: "not ids", as: asAlice, method: http.MethodPost, target: path("/api/v4/users/ids"), body: body(`["x"]`),
			want: http.StatusBadRequest, wantID: "api.context.invalid_body_param.app_error"},
		{name: "no session", method: http.MethodPost, target: path("/api/v4/users/ids"),
			body: func(w *world) any { return []string{w.bob.user.ID} }, want: http.StatusUnauthorized, wantID: "api.context.session_expired.app_error"},
	})
}

// TestNoPasswordHashLeaves checks every user-returning route for the hash.
func TestNoPasswordHashLeaves(t *testing.T) {
	w := newWorld(t)
	for _, target := range []string{"/api/v4/users/me", "/api/v4/users/" + w.bob.user.ID} {
		_, b := w.n.do(t, http.MethodGet, target, w.alice.token, nil)
		if strings.Contains(string(b), "$2a$") {
			t.Errorf("%s leaks a bcrypt hash: %s", target, b)
		}
	}
}

// patchTarget is the patch route of the user acc picks.
func patchTarget(who func(*world) *account) func(*world) string {
	return func(w *world) string { return "/api/v4/users/" + who(w).user.ID + "/patch" }
}

func TestPatchUser(t *testing.T) {
	// checkUser decodes a user answer, checks it against want (JSON names
	// to values) and checks that GET /users/{id} as bob now returns the
	// same profile.
	checkUser := func(want map[string]any) func(t *testing.T, w *world, b []byte) {
		return func(t *testing.T, w *world, b []byte) {
			t.Helper()
			m := decode(t, b)
			for k, v := range want {
				if got := m[k]; got != v {
					t.Errorf("%s = %v, want %v (user %v)", k, got, v, m)
				}
			}
			for _, secret := range []string{"password", "mfa_secret"} {
				if _, ok := m[secret]; ok {
					t.Errorf("user carries %s", secret)
				}
			}
			id := m["id"].(string)
			var before int64
			for _, acc := range []*account{w.admin, w.alice, w.bob, w.eve} {
				if acc.user.ID == id {
					before = acc.user.UpdateAt
				}
			}
			if at := int64(m["update_at"].(float64)); at <= before {
				t.Errorf("update_at = %d, want after %d", at, before)
			}
			got := decode(t, w.n.getAs(t, w.bob.token, "/api/v4/users/"+id))
			for k, v := range want {
				if k != "notify_props" && got[k] != v {
					t.Errorf("GET after the patch: %s = %v, want %v", k, got[k], v)
				}
			}
		}
	}
	runEndpointCases(t, []endpointCase{
		{name: "own profile fields, username lower-cased", as: asAlice, method: http.MethodPut, target: patchTarget(asAlice),
			body: body(map[string]any{"username": "Alice2", "nickname": "Al", "first_name": "Alice", "last_name": "Liddell",
				"position": "", "locale": "fr", "timezone": map[string]string{"useAutomaticTimezone": "false", "manualTimezone": "Europe/Paris"}}),
			want: http.StatusOK, check: checkUser(map[string]any{"username": "alice2", "nickname": "Al", "first_name": "Alice",
				"last_name": "Liddell", "position": "", "locale": "fr", "email": "alice@example.com"})},
		{name: "me, with the id Client4 sends, absent fields unchanged", as: asBob, method: http.MethodPut,
			target: path("/api/v4/users/me/patch"),
			body:   func(w *world) any { return map[string]any{"id": w.bob.user.ID, "position": "tester"} },
			want:   http.StatusOK, check: checkUser(map[string]any{"username": "bob", "position": "tester", "locale": "en"})},
		{name: "own email with the password", as: asAlice, method: http.MethodPut, target: patchTarget(asAlice),
			body: body(map[string]any{"email": "Alice.New@Example.com", "password": password}),
			want: http.StatusOK, check: checkUser(map[string]any{"email": "alice.new@example.com"})},
		{name: "a system admin patches another user, email included", as: asAdmin, method: http.MethodPut, target: patchTarget(asBob),
			body: body(map[string]any{"nickname": "B", "email": "robert@example.com"}), want: http.StatusOK,
			check: func(t *testing.T, w *world, b []byte) {
				checkUser(map[string]any{"nickname": "B", "email": "robert@example.com"})(t, w, b)
				if decode(t, b)["notify_props"] == nil {
					t.Error("an admin's answer lacks notify_props")
				}
			}},
		{name: "own email without the password", as: asAlice, method: http.MethodPut, target: patchTarget(asAlice),
			body: body(map[string]any{"email": "alice.new@example.com"}),
			want: http.StatusBadRequest, wantID: "api.context.invalid_body_param.app_error"},
		{name: "own email with a wrong password", as: asAlice, method: http.MethodPut, target: patchTarget(asAlice),
			body: body(map[string]any{"email": "alice.new@example.com", "password": "wrong-password"}),
			want: http.StatusUnauthorized, wantID: "api.user.check_user_password.invalid.app_error"},
		{name: "another user", as: asAlice, method: http.MethodPut, target: patchTarget(asBob),
			body: body(map[string]any{"nickname": "x"}), want: http.StatusForbidden, wantID: "api.context.permissions.app_error"},
		{name: "the system admin, by a user", as: asBob, method: http.MethodPut, target: patchTarget(asAdmin),
			body: body(map[string]any{"nickname": "x"}), want: http.StatusForbidden, wantID: "api.context.permissions.app_error"},
		{name: "unknown user, by a user: no permission", as: asAlice, method: http.MethodPut,
			target: path("/api/v4/users/" + app.NewID() + "/patch"), body: body(map[string]any{"nickname": "x"}),
			want: http.StatusForbidden, wantID: "api.context.permissions.app_error"},
		{name: "unknown user, by an admin: Mattermost's invalid user_id", as: asAdmin, method: http.MethodPut,
			target: path("/api/v4/users/" + app.NewID() + "/patch"), body: body(map[string]any{"nickname": "x"}),
			want: http.StatusBadRequest, wantID: "api.context.invalid_body_param.app_error"},
		{name: "not an id", as: asAdmin, method: http.MethodPut, target: path("/api/v4/users/junk/patch"),
			body: body(map[string]any{"nickname": "x"}), want: http.StatusBadRequest, wantID: "api.context.invalid_url_param.app_error"},
		{name: "garbage body", as: asAlice, method: http.MethodPut, target: patchTarget(asAlice), body: body("garbage"),
			want: http.StatusBadRequest, wantID: "api.context.invalid_body_param.app_error"},
		{name: "a field of the wrong type", as: asAlice, method: http.MethodPut, target: patchTarget(asAlice),
			body: body(`{"nickname":5}`), want: http.StatusBadRequest, wantID: "api.context.invalid_body_param.app_error"},
		{name: "the body is read before the permission", as: asAlice, method: http.MethodPut, target: patchTarget(asBob),
			body: body(`{"props":[]}`), want: http.StatusBadRequest, wantID: "api.context.invalid_body_param.app_error"},
		{name: "another user's username", as: asAlice, method: http.MethodPut, target: patchTarget(asAlice),
			body: body(map[string]any{"username": "Bob"}), want: http.StatusBadRequest, wantID: "app.user.save.username_exists.app_error"},
		{name: "another user's email", as: asAdmin, method: http.MethodPut, target: patchTarget(asAlice),
			body: body(map[string]any{"email": "bob@example.com"}), want: http.StatusBadRequest, wantID: "app.user.save.email_exists.app_error"},
		{name: "invalid username", as: asAlice, method: http.MethodPut, target: patchTarget(asAlice),
			body: body(map[string]any{"username": "no spaces"}), want: http.StatusBadRequest, wantID: "model.user.is_valid.username.app_error"},
		{name: "nickname too long", as: asAlice, method: http.MethodPut, target: patchTarget(asAlice),
			body: body(map[string]any{"nickname": strings.Repeat("é", 65)}), want: http.StatusBadRequest, wantID: "model.user.is_valid.nickname.app_error"},
		{name: "timezone too long", as: asAlice, method: http.MethodPut, target: patchTarget(asAlice),
			body: body(map[string]any{"timezone": map[string]string{"manualTimezone": strings.Repeat("x", 256)}}),
			want: http.StatusBadRequest, wantID: "model.user.is_valid.timezone_limit.app_error"},
		{name: "no session", method: http.MethodPut, target: patchTarget(asAlice), body: body(map[string]any{"nickname": "x"}),
			want: http.StatusUnauthorized, wantID: "api.context.session_expired.app_error"},
	})
}

// TestPatchUserKeepsWhatItDoesNotPatch checks that a patch leaves the
// password, roles and the user's other maps alone and that an empty
// notify_props means Mattermost's defaults.
func TestPatchUserKeepsWhatItDoesNotPatch(t *testing.T) {
	w := newWorld(t)
	b := w.mustDo(t, w.alice, http.MethodPut, "/api/v4/users/me/patch",
		map[string]any{"notify_props": map[string]string{}, "props": map[string]string{"k": "v"}, "password": "ignored-password"}, http.StatusOK)
	u := decodeAs[app.User](t, b)
	if u.Roles != "system_user" || u.NotifyProps["push"] != "mention" || u.Props["k"] != "v" || u.Timezone["useAutomaticTimezone"] != "true" {
		t.Errorf("patched user = %+v", u)
	}
	w.n.login(t, "alice") // the password is unchanged
	b = w.mustDo(t, w.alice, http.MethodPut, "/api/v4/users/me/patch",
		map[string]any{"notify_props": map[string]string{"mention_keys": "Al,,ALICE,", "email": "false"}}, http.StatusOK)
	if u := decodeAs[app.User](t, b); u.NotifyProps["mention_keys"] != "al,alice" || u.NotifyProps["email"] != "false" {
		t.Errorf("notify_props = %v, want blank mention keys dropped and the rest lower case", u.NotifyProps)
	}
}

// TestPatchUserTellsSocketsAndTheCluster checks the user_updated events and
// the inv_user message, sent before them.
func TestPatchUserTellsSocketsAndTheCluster(t *testing.T) {
	w := newWorld(t)
	rec := &recordingCluster{}
	w.n.app.SetCluster(rec)
	url := w.n.serve(t)
	alice, bob, eve := dialAs(t, url, w.alice), dialAs(t, url, w.bob), dialAs(t, url, w.eve)
	for _, c := range []*wsClient{alice, bob, eve} {
		c.event("hello")
	}
	w.mustDo(t, w.alice, http.MethodPut, "/api/v4/users/me/patch", map[string]any{"nickname": "Ally"}, http.StatusOK)
	if !rec.has(app.ClusterEventInvalidateUser+" "+w.alice.user.ID) || rec.asked == 0 {
		t.Errorf("the cluster was sent %q and asked %d times; want inv_user and a confirmation", rec.sent, rec.asked)
	}
	userOf := func(f wsFrame) map[string]any {
		t.Helper()
		var data struct {
			User map[string]any `json:"user"`
		}
		if err := json.Unmarshal(f.Data, &data); err != nil || data.User == nil {
			t.Fatalf("user_updated data = %s (%v)", f.Data, err)
		}
		return data.User
	}
	// Everyone else, even eve who shares no team with alice, gets her
	// profile; her own sockets get her own view.
	for name, c := range map[string]*wsClient{"bob": bob, "eve": eve} {
		f := c.event("user_updated")
		u := userOf(f)
		if u["id"] != w.alice.user.ID || u["nickname"] != "Ally" || u["email"] != "alice@example.com" {
			t.Errorf("%s's user_updated = %v", name, u)
		}
		if _, ok := u["notify_props"]; ok {
			t.Errorf("%s's user_updated carries alice's notify_props", name)
		}
		if omit, _ := f.Broadcast["omit_users"].(map[string]any); omit[w.alice.user.ID] != true {
			t.Errorf("%s's user_updated broadcast = %v, want alice omitted", name, f.Broadcast)
		}
	}
	f := alice.event("user_updated")
	if u := userOf(f); u["nickname"] != "Ally" || u["notify_props"] == nil || f.Broadcast["user_id"] != w.alice.user.ID {
		t.Errorf("alice's own user_updated = %s %v", f.Data, f.Broadcast)
	}
}

// TestInvalidateUserFromAnotherNodeDropsTheCachedUser plays another node's
// patch: the database changes behind this node's cache, which serves the
// old user until inv_user arrives.
func TestInvalidateUserFromAnotherNodeDropsTheCachedUser(t *testing.T) {
	w := newWorld(t)
	target := "/api/v4/users/" + w.bob.user.ID
	w.n.getAs(t, w.alice.token, target) // cached
	row, err := w.n.store.Users().Get(t.Context(), w.bob.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	row.Nickname, row.UpdateAt = "from another node", row.UpdateAt+1
	if err := w.n.store.Users().Update(t.Context(), row); err != nil {
		t.Fatal(err)
	}
	if got := decode(t, w.n.getAs(t, w.alice.token, target))["nickname"]; got != "" {
		t.Fatalf("nickname before inv_user = %v; the user should come from the cache", got)
	}
	w.n.app.ClusterHandlers()[app.ClusterEventInvalidateUser](t.Context(), []byte(w.bob.user.ID))
	if got := decode(t, w.n.getAs(t, w.alice.token, target))["nickname"]; got != "from another node" {
		t.Errorf("nickname after inv_user = %v, want the database's", got)
	}
}
