package api_test

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/seed331fb32b/chorus/node/config"
)

func TestNotFound(t *testing.T) {
	n := newTestNode(t, config.ServiceSettings{GoroutineHealthThreshold: -1})
	tests := []struct {
		name   string
		method string
		target string
		path   string
	}{
		{"unknown route", http.MethodGet, "/api/v4/xyz", "/api/v4/xyz"},
		{"unknown nested route with query", http.MethodGet, "/api/v4/xyz/me/teams?page=1", "/api/v4/xyz/me/teams"},
		{"known route with a path parameter too many", http.MethodGet, "/api/v4/users/me/teams/x/y/z/w", "/api/v4/users/me/teams/x/y/z/w"},
		{"known route with another method", http.MethodPost, "/api/v4/system/ping", "/api/v4/system/ping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			n.handler.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), tt.method, tt.target, nil))
			res := rec.Result()
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("status code = %d, want 404", res.StatusCode)
			}
			if got := res.Header.Values("Content-Type"); !slices.Equal(got, []string{"application/json"}) {
				t.Errorf("Content-Type = %q, want exactly application/json", got)
			}
			m := decode(t, rec.Body.Bytes())
			want := map[string]any{
				"id":             "api.context.404.app_error",
				"message":        "Sorry, we could not find the page.",
				"detailed_error": "There doesn't appear to be an api call for the url='" + tt.path + "'.",
				"request_id":     res.Header.Get("X-Request-ID"),
				"status_code":    float64(404),
			}
			if !maps.Equal(m, want) {
				t.Errorf("body = %v\nwant %v", m, want)
			}
		})
	}
}

func TestPathOutsideAPIIsPlainNotFound(t *testing.T) {
	n := newTestNode(t, config.ServiceSettings{GoroutineHealthThreshold: -1})
	res, _ := n.get(t, "/login")
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("status code = %d, want 404", res.StatusCode)
	}
	if got := res.Header.Get("Content-Type"); got == "application/json" {
		t.Error("a non-API 404 claims to be JSON")
	}
}
