package api_test

import (
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
