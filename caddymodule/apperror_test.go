package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func TestAppErrorWritesMattermostJSON(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantID     string
	}{
		{"body too large", caddyhttp.Error(http.StatusRequestEntityTooLarge, &http.MaxBytesError{Limit: 10}), 413, "chorus.proxy.request_too_large.app_error"},
		{"no node", caddyhttp.Error(http.StatusBadGateway, errors.New("dial tcp 10.0.0.1:8065: connection refused")), 502, "chorus.proxy.no_node.app_error"},
		{"timeout", caddyhttp.Error(http.StatusGatewayTimeout, errors.New("timeout")), 504, "chorus.proxy.timeout.app_error"},
		{"plain error", errors.New("boom"), 500, "chorus.proxy.error.app_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/api/v4/posts", nil)
			repl := caddy.NewReplacer()
			repl.Set("http.request.uuid", "req-123")
			ctx := context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl)
			ctx = context.WithValue(ctx, caddyhttp.ErrorCtxKey, tt.err)
			w := httptest.NewRecorder()
			if err := (AppError{}).ServeHTTP(w, r.WithContext(ctx), nil); err != nil {
				t.Fatal(err)
			}
			if w.Code != tt.wantStatus {
				t.Errorf("status %d; want %d", w.Code, tt.wantStatus)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q; want exactly application/json", ct)
			}
			var body map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			for _, k := range []string{"id", "message", "detailed_error", "request_id", "status_code"} {
				if _, ok := body[k]; !ok {
					t.Errorf("body lacks %q: %s", k, w.Body)
				}
			}
			if body["id"] != tt.wantID || body["request_id"] != "req-123" || body["status_code"] != float64(tt.wantStatus) {
				t.Errorf("body %s; want id %s, request_id req-123, status_code %d", w.Body, tt.wantID, tt.wantStatus)
			}
			if s, _ := body["detailed_error"].(string); len(s) > 0 && strings.Contains(s, "10.0.0.1") {
				t.Errorf("detailed_error leaks a node address: %q", s)
			}
		})
	}
}
