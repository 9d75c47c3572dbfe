package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/seed331fb32b/chorus/node/app"
)

// password is every test user's password.
const password = "Passw0rd!x"

// account is a signed-up, logged-in user.
type account struct {
	user  app.User
	token string
	csrf  string
}

// decodeAs unmarshals body into a T, failing the test on error.
func decodeAs[T any](t testing.TB, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	return v
}

// signup creates username through the API (as token's user, "" for a
// sign-up) and logs them in.
func (n *testNode) signup(t testing.TB, token, username string) *account {
	t.Helper()
	res, body := n.do(t, http.MethodPost, "/api/v4/users", token,
		map[string]string{"username": username, "email": username + "@example.com", "password": password})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("sign-up of %s = %d %s", username, res.StatusCode, body)
	}
	return n.login(t, username)
}

// login logs username in.
func (n *testNode) login(t testing.TB, username string) *account {
	t.Helper()
	res, body := n.do(t, http.MethodPost, "/api/v4/users/login", "", map[string]string{"login_id": username, "password": password})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("login of %s = %d %s", username, res.StatusCode, body)
	}
	acc := &account{user: decodeAs[app.User](t, body), token: res.Header.Get("Token")}
	for _, c := range res.Cookies() {
		if c.Name == "MMCSRF" {
			acc.csrf = c.Value
		}
	}
	return acc
}

// world is a node with an admin (the first user); alice and bob in an
// open team (core, alice's) and its open channel dev; alice's private
// channel secret and her open channel lounge, which bob is not in; and eve,
// outside core, with her invite-only team and its channel club.
type world struct {
	n                                 *testNode
	admin, alice, bob, eve            *account
	team, otherTeam                   app.Team
	channel, private, lounge, outside app.Channel
}

// newWorld builds a world through the API.
func newWorld(t testing.TB) *world {
	t.Helper()
	n := newTestNode(t, testService)
	w := &world{n: n}
	w.admin = n.signup(t, "", "admin")
	w.alice = n.signup(t, "", "alice")
	w.bob = n.signup(t, "", "bob")
	w.eve = n.signup(t, "", "eve")
	w.team = w.create(t, w.alice, "/api/v4/teams", map[string]any{"name": "core", "display_name": "Core", "type": "O"})
	w.otherTeam = w.create(t, w.eve, "/api/v4/teams", map[string]any{"name": "private-club", "display_name": "Club", "type": "I"})
	w.join(t, w.alice, w.team.ID, w.bob.user.ID)
	w.channel = decodeAs[app.Channel](t, w.mustDo(t, w.alice, http.MethodPost, "/api/v4/channels",
		map[string]any{"team_id": w.team.ID, "name": "dev", "display_name": "Dev", "type": "O"}, http.StatusCreated))
	w.mustDo(t, w.alice, http.MethodPost, "/api/v4/channels/"+w.channel.ID+"/members", map[string]any{"user_id": w.bob.user.ID}, http.StatusCreated)
	w.private = decodeAs[app.Channel](t, w.mustDo(t, w.alice, http.MethodPost, "/api/v4/channels",
		map[string]any{"team_id": w.team.ID, "name": "secret", "display_name": "Secret", "type": "P"}, http.StatusCreated))
	w.lounge = decodeAs[app.Channel](t, w.mustDo(t, w.alice, http.MethodPost, "/api/v4/channels",
		map[string]any{"team_id": w.team.ID, "name": "lounge", "display_name": "Lounge", "type": "O"}, http.StatusCreated))
	w.outside = decodeAs[app.Channel](t, w.mustDo(t, w.eve, http.MethodPost, "/api/v4/channels",
		map[string]any{"team_id": w.otherTeam.ID, "name": "club", "display_name": "Club", "type": "O"}, http.StatusCreated))
	return w
}

// create POSTs body to target as acc and decodes the 201 answer as a team.
func (w *world) create(t testing.TB, acc *account, target string, body any) app.Team {
	t.Helper()
	return decodeAs[app.Team](t, w.mustDo(t, acc, http.MethodPost, target, body, http.StatusCreated))
}

// join adds userID to teamID as acc.
func (w *world) join(t testing.TB, acc *account, teamID, userID string) {
	t.Helper()
	w.mustDo(t, acc, http.MethodPost, "/api/v4/teams/"+teamID+"/members", map[string]any{"team_id": teamID, "user_id": userID}, http.StatusCreated)
}

// mustDo sends a request as acc and fails unless it gets want.
func (w *world) mustDo(t testing.TB, acc *account, method, target string, body any, want int) []byte {
	t.Helper()
	res, out := w.n.do(t, method, target, acc.token, body)
	if res.StatusCode != want {
		t.Fatalf("%s %s = %d %s, want %d", method, target, res.StatusCode, out, want)
	}
	return out
}

// post creates a post in channelID as acc. A nil t (in a case's body)
// panics on failure.
func (w *world) post(t testing.TB, acc *account, channelID, message string) app.Post {
	if t == nil {
		t = &panicTB{}
	} else {
		t.Helper()
	}
	return decodeAs[app.Post](t, w.mustDo(t, acc, http.MethodPost, "/api/v4/posts",
		map[string]any{"channel_id": channelID, "message": message}, http.StatusCreated))
}

// panicTB is a testing.TB for the setup inside a case's body function,
// which has no t: a failure panics, which fails the test.
type panicTB struct{ testing.TB }

func (*panicTB) Helper()                           {}
func (*panicTB) Context() context.Context          { return context.Background() }
func (*panicTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (*panicTB) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }

// endpointCase is one request to an endpoint and what it must answer.
type endpointCase struct {
	name   string
	as     func(w *world) *account // nil: no session
	method string
	target func(w *world) string
	body   func(w *world) any
	// want is the status; wantID, for an error, its AppError id.
	want   int
	wantID string
	// check, when set, checks a successful answer.
	check func(t *testing.T, w *world, body []byte)
}

// runEndpointCases runs cases in parallel, against one fresh world each:
// a case may change it.
func runEndpointCases(t *testing.T, cases []endpointCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			token := ""
			if tc.as != nil {
				token = tc.as(w).token
			}
			var body any
			if tc.body != nil {
				body = tc.body(w)
			}
			target := tc.target(w)
			res, out := w.n.do(t, tc.method, target, token, body)
			if res.StatusCode != tc.want {
				t.Fatalf("%s %s = %d %s, want %d", tc.method, target, res.StatusCode, out, tc.want)
			}
			if ct := res.Header.Values("Content-Type"); len(ct) != 1 || ct[0] != "application/json" {
				t.Errorf("Content-Type = %q, want exactly application/json", ct)
			}
			if tc.wantID != "" {
				m := decode(t, out)
				if m["id"] != tc.wantID || m["status_code"] != float64(tc.want) || m["request_id"] != res.Header.Get("X-Request-ID") {
					t.Errorf("error body = %s, want id %s and status_code %d", out, tc.wantID, tc.want)
				}
			}
			if tc.check != nil {
				tc.check(t, w, out)
			}
		})
	}
}

// Accounts of a world, for cases.
func asAdmin(w *world) *account { return w.admin }
func asAlice(w *world) *account { return w.alice }
func asBob(w *world) *account   { return w.bob }
func asEve(w *world) *account   { return w.eve }

// path returns a constant target.
func path(p string) func(*world) string { return func(*world) string { return p } }

// body returns a constant body.
func body(v any) func(*world) any { return func(*world) any { return v } }
