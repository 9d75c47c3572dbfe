package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

func init() {
	caddy.RegisterModule(AppError{})
}

// AppError is an error handler (for a subroute's or a server's error
// routes) that answers the error of the request in Mattermost's AppError
// JSON, the shape every Mattermost client parses:
// {"id","message","detailed_error","request_id","status_code"}. Without it,
// a client of the front door gets an empty body when no node can take its
// request or its body is too large.
//
// Module ID: http.handlers.chorus_error. It has no configuration.
type AppError struct{}

// CaddyModule returns the Caddy module information.
func (AppError) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.chorus_error",
		New: func() caddy.Module { return new(AppError) },
	}
}

// appErrorBody is Mattermost's model.AppError as it goes on the wire.
type appErrorBody struct {
	ID            string `json:"id"`
	Message       string `json:"message"`
	DetailedError string `json:"detailed_error"`
	RequestID     string `json:"request_id"`
	StatusCode    int    `json:"status_code"`
}

// ServeHTTP writes the AppError for the error in r's context. It ends the
// chain: next is never called.
func (AppError) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	status := http.StatusInternalServerError
	var he caddyhttp.HandlerError
	err, _ := r.Context().Value(caddyhttp.ErrorCtxKey).(error)
	if errors.As(err, &he) && he.StatusCode != 0 {
		status = he.StatusCode
	}
	body := appErrorBody{StatusCode: status}
	body.ID, body.Message = describe(status)
	if he.ID != "" {
		// The error's own text names internal addresses; the id lets an
		// operator find it in the front door's log instead.
		body.DetailedError = fmt.Sprintf("front door error id %s", he.ID)
	}
	if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		body.RequestID, _ = repl.GetString("http.request.uuid")
	}
	// Exactly application/json: Mattermost's Client4 breaks on parameters.
	w.Header().Set("Content-Type", "application/json")
	if body.RequestID != "" && w.Header().Get("X-Request-Id") == "" {
		w.Header().Set("X-Request-Id", body.RequestID)
	}
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(body)
}

// describe returns the AppError id and message for a front-door status.
func describe(status int) (id, message string) {
	switch status {
	case http.StatusRequestEntityTooLarge:
		return "chorus.proxy.request_too_large.app_error", "The request body is larger than the front door allows."
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return "chorus.proxy.no_node.app_error", "No app node could take the request. Please try again."
	case http.StatusGatewayTimeout:
		return "chorus.proxy.timeout.app_error", "The app node did not answer in time."
	default:
		return "chorus.proxy.error.app_error", http.StatusText(status)
	}
}

// Interface guards.
var _ caddyhttp.MiddlewareHandler = AppError{}
