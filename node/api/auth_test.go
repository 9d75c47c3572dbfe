package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/seed331fb32b/chorus/node/app"
	"github.com/seed331fb32b/chorus/node/store"
)

// cookieRequest serves a request authenticated by the session cookie only,
// with extra headers.
func (n *testNode) cookieRequest(t *testing.T, method, target, token string, header map[string]string, body string) *http.Response {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, target, strings.NewReader(body))
	req.AddCookie(&http.Cookie{Name: "MMAUTHTOKEN", Value: token})
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	n.handler.ServeHTTP(rec, req)
	return rec.Result()
}

func TestCookieAuthenticationNeedsCSRFOnWrites(t *testing.T) {
	w := newWorld(t)
	post := `{"channel_id":"` + w.channel.ID + `","message":"from a browser"}`
	tests := []struct {
		name   string
		method string
		target string
		header map[string]string
		want   int
	}{
		{"GET needs no CSRF token", http.MethodGet, "/api/v4/users/me", nil, http.StatusOK},
		{"POST without a CSRF token is refused", http.MethodPost, "/api/v4/posts", nil, http.StatusUnauthorized},
		{"POST with a wrong CSRF token is refused", http.MethodPost, "/api/v4/posts", map[string]string{"X-CSRF-Token": "wrong"}, http.StatusUnauthorized},
		{"POST with the session's CSRF token passes", http.MethodPost, "/api/v4/posts", map[string]string{"X-CSRF-Token": w.bob.csrf}, http.StatusCreated},
		{"POST from XMLHttpRequest passes, as Mattermost", http.MethodPost, "/api/v4/posts", map[string]string{"X-Requested-With": "XMLHttpRequest"}, http.StatusCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := w.n.cookieRequest(t, tt.method, tt.target, w.bob.token, tt.header, post)
			if res.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", res.StatusCode, tt.want)
			}
		})
	}
	t.Run("a header token needs no CSRF token", func(t *testing.T) {
		w.mustDo(t, w.bob, http.MethodPost, "/api/v4/posts", post, http.StatusCreated)
	})
}

func TestTokenHeaderForms(t *testing.T) {
	n := newTestNode(t, testService)
	alice := n.signup(t, "", "alice")
	for _, auth := range []string{"Bearer " + alice.token, "BEARER " + alice.token, "bearer " + alice.token, "Token " + alice.token, "token " + alice.token} {
		t.Run(auth[:6], func(t *testing.T) {
			res, body := n.do(t, http.MethodGet, "/api/v4/users/me", "", nil, "Authorization", auth)
			if res.StatusCode != http.StatusOK {
				t.Errorf("Authorization %q = %d %s", auth[:6], res.StatusCode, body)
			}
		})
	}
	t.Run("an unknown token clears the cookies", func(t *testing.T) {
		res := n.cookieRequest(t, http.MethodGet, "/api/v4/users/me", app.NewID(), nil, "")
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status = %d", res.StatusCode)
		}
		if len(res.Cookies()) != 3 || res.Cookies()[0].MaxAge >= 0 {
			t.Errorf("cookies = %v, want the three session cookies expired", res.Cookies())
		}
	})
}

func TestExpiredSessionIsRefused(t *testing.T) {
	n := newTestNode(t, testService)
	alice := n.signup(t, "", "alice")
	expired := &store.Session{ID: app.NewID(), Token: app.NewID(), CreateAt: 1, ExpiresAt: 2, UserID: alice.user.ID, Roles: "system_user", Props: "{}"}
	if err := n.store.Sessions().Save(t.Context(), expired); err != nil {
		t.Fatal(err)
	}
	res, body := n.do(t, http.MethodGet, "/api/v4/users/me", expired.Token, nil)
	if res.StatusCode != http.StatusUnauthorized || decode(t, body)["id"] != "api.context.session_expired.app_error" {
		t.Errorf("expired session = %d %s, want 401", res.StatusCode, body)
	}
	if _, err := n.store.Sessions().GetByToken(t.Context(), expired.Token); err == nil {
		t.Error("the expired session was not deleted")
	}
}

// TestSessionsAreCached shows a request does not read its session from the
// database: a session deleted behind the node's back still works until
// the cache drops it (logout drops it at once, see TestLogout).
func TestSessionsAreCached(t *testing.T) {
	n := newTestNode(t, testService)
	alice := n.signup(t, "", "alice")
	n.do(t, http.MethodGet, "/api/v4/users/me", alice.token, nil)
	s, err := n.store.Sessions().GetByToken(t.Context(), alice.token)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.store.Sessions().Remove(t.Context(), s.ID); err != nil {
		t.Fatal(err)
	}
	if res, body := n.do(t, http.MethodGet, "/api/v4/users/me", alice.token, nil); res.StatusCode != http.StatusOK {
		t.Errorf("cached session = %d %s, want 200", res.StatusCode, body)
	}
}

func TestBodyOverTheLimitIs413(t *testing.T) {
	n := newTestNodeWith(t, `"ServiceSettings": {"MaximumPayloadSizeBytes": 1000}, "TeamSettings": {"EnableOpenServer": true}`)
	alice := n.signup(t, "", "alice")
	big := `{"channel_id":"` + app.NewID() + `","message":"` + strings.Repeat("x", 2000) + `"}`
	res, body := n.do(t, http.MethodPost, "/api/v4/posts", alice.token, big)
	if res.StatusCode != http.StatusRequestEntityTooLarge || decode(t, body)["id"] != "api.context.request_body_too_large.app_error" {
		t.Errorf("oversized body = %d %s, want 413", res.StatusCode, body)
	}
	if res, _ := n.do(t, http.MethodPost, "/api/v4/users/ids", alice.token, `["`+alice.user.ID+`"]`); res.StatusCode != http.StatusOK {
		t.Errorf("a small body after it = %d", res.StatusCode)
	}
}

func TestKnownMattermostRoutesAre501(t *testing.T) {
	n := newTestNode(t, testService)
	id := app.NewID()
	tests := []struct {
		method, target string
		want           int
	}{
		{http.MethodGet, "/api/v4/users/" + id + "/image", http.StatusNotImplemented},
		{http.MethodPut, "/api/v4/posts/" + id + "/patch", http.StatusNotImplemented},
		{http.MethodPost, "/api/v4/channels/direct", http.StatusNotImplemented},
		{http.MethodGet, "/api/v4/teams/" + id + "/channels/name/town-square", http.StatusNotImplemented},
		{http.MethodGet, "/api/v4/emoji", http.StatusNotImplemented},
		{http.MethodDelete, "/api/v4/users/" + id, http.StatusNotImplemented},
		{http.MethodGet, "/api/v4/nonsense", http.StatusNotFound},
		{http.MethodPost, "/api/v4/system/ping", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			res, body := n.do(t, tt.method, tt.target, "", nil)
			if res.StatusCode != tt.want {
				t.Fatalf("status = %d %s, want %d", res.StatusCode, body, tt.want)
			}
			wantID := "api.context.404.app_error"
			if tt.want == http.StatusNotImplemented {
				wantID = "api.chorus.not_implemented.app_error"
			}
			if m := decode(t, body); m["id"] != wantID || m["status_code"] != float64(tt.want) {
				t.Errorf("body = %v", m)
			}
		})
	}
}
