package api_test

import (
	"net/http"
	"testing"
)

// FuzzRequestBodies sends any body to every route that reads one, through
// the whole node (API, app, SQLite): no body may make a handler panic or
// fail with a 5xx, and every answer is JSON. Its seeds run with go test;
// go test -fuzz=FuzzRequestBodies ./node/api/ explores further.
func FuzzRequestBodies(f *testing.F) {
	for _, s := range []string{"", "{}", "[]", "null", `{"channel_id":"ybndrfg8ejkmcpqxot1uwisza3","message":"x"}`,
		`{"username":"z","email":"z@example.com","password":"Passw0rd!z"}`, `{"name":"t","display_name":"T","type":"O"}`,
		`["ybndrfg8ejkmcpqxot1uwisza3"]`, `{"user_id":"ybndrfg8ejkmcpqxot1uwisza3","status":"away"}`, "\x00\xff"} {
		f.Add([]byte(s))
	}
	w := newWorld(f)
	routes := []struct{ method, target string }{
		{http.MethodPost, "/api/v4/users"},
		{http.MethodPost, "/api/v4/users/login"},
		{http.MethodPost, "/api/v4/users/ids"},
		{http.MethodPost, "/api/v4/teams"},
		{http.MethodPost, "/api/v4/teams/" + w.team.ID + "/members"},
		{http.MethodPost, "/api/v4/channels"},
		{http.MethodPost, "/api/v4/channels/" + w.channel.ID + "/members"},
		{http.MethodPost, "/api/v4/posts"},
		{http.MethodPut, "/api/v4/users/me/status"},
		{http.MethodPost, "/api/v4/users/status/ids"},
		{http.MethodPut, "/api/v4/users/me/patch"},
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, r := range routes {
			res, out := w.n.do(t, r.method, r.target, w.alice.token, b)
			if res.StatusCode >= 500 {
				t.Fatalf("%s %s with %q = %d %s", r.method, r.target, b, res.StatusCode, out)
			}
			if res.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("%s %s: Content-Type %q", r.method, r.target, res.Header.Get("Content-Type"))
			}
		}
	})
}
