package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/seed331fb32b/chorus/node/app"
)

// AppError is Mattermost's error body (model.AppError as JSON): every API
// error is written as one, with the HTTP status repeated in StatusCode.
// Clients such as @mattermost/client read id and message from it.
type AppError struct {
	// ID is the translation id, e.g. "api.context.404.app_error".
	ID string `json:"id"`
	// Message is the English text of ID.
	Message string `json:"message"`
	// DetailedError adds request-specific detail for developers.
	DetailedError string `json:"detailed_error"`
	// RequestID is the X-Request-ID of the failed request.
	RequestID string `json:"request_id,omitempty"`
	// StatusCode is the HTTP status of the response.
	StatusCode int `json:"status_code,omitempty"`
}

// Error returns Message, then DetailedError after ", " when there is one.
func (e *AppError) Error() string {
	if e.DetailedError == "" {
		return e.Message
	}
	return e.Message + ", " + e.DetailedError
}

// writeAppError writes e as the response, with e.StatusCode as the status
// and the request's id filled in. It is the one place API errors are
// written.
func writeAppError(w http.ResponseWriter, r *http.Request, e *AppError) {
	e.RequestID = requestID(r.Context())
	body, err := json.Marshal(e)
	if err != nil { // cannot happen: AppError has only strings and an int
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentTypeJSON)
	w.WriteHeader(e.StatusCode)
	_, _ = w.Write(body)
}

// statusOf is the HTTP status of an app error kind: the one place kinds
// become statuses.
func statusOf(k app.Kind) int {
	switch k {
	case app.KindInvalid, app.KindConflict: // Mattermost answers 400 for "already exists"
		return http.StatusBadRequest
	case app.KindUnauthorized:
		return http.StatusUnauthorized
	case app.KindForbidden:
		return http.StatusForbidden
	case app.KindNotFound:
		return http.StatusNotFound
	case app.KindNotImplemented:
		return http.StatusNotImplemented
	}
	return http.StatusInternalServerError
}

// toAppError turns any error of a handler into the AppError to send: an
// *AppError as is; an *app.Error with the status of its kind (an internal
// one without its cause, which is logged instead, as it may name tables or
// hosts); a body over the size limit as Mattermost's 413; anything else as
// a 500.
func toAppError(err error, log *zap.Logger) *AppError {
	var ae *AppError
	if errors.As(err, &ae) {
		return ae
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return &AppError{ID: "api.context.request_body_too_large.app_error",
			Message:       "Request body too large.",
			DetailedError: "Use the setting ServiceSettings.MaximumPayloadSizeBytes in config.json to change the limit.",
			StatusCode:    http.StatusRequestEntityTooLarge}
	}
	var e *app.Error
	if errors.As(err, &e) {
		out := &AppError{ID: e.ID, Message: e.Message, DetailedError: e.Detail, StatusCode: statusOf(e.Kind)}
		if e.Kind == app.KindInternal && log != nil {
			log.Error("Request failed", zap.String("error_id", e.ID), zap.Error(err))
		}
		return out
	}
	if log != nil {
		log.Error("Request failed", zap.Error(err))
	}
	return &AppError{ID: "api.context.internal.app_error", Message: "An internal error occurred.",
		StatusCode: http.StatusInternalServerError}
}

// writeError writes err as the response (see toAppError); internal
// failures are logged with the request id.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	writeAppError(w, r, toAppError(err, h.logger.With(zap.String("request_id", requestID(r.Context())))))
}

// writeError is handler.writeError without a logger, for errors that are
// never internal.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	writeAppError(w, r, toAppError(err, nil))
}

// notFound answers a path under /api/ that has no route: 501 when it is a
// Mattermost route Chorus does not implement, else 404 as Mattermost's
// web.Handle404 does for API calls. Mattermost 10 and 11 append
// "  Typo? are you missing a team_id or user_id as part of the url?" to the
// detail; Chorus keeps the shorter wording older releases used.
func notFound(w http.ResponseWriter, r *http.Request) {
	if isNotImplemented(r.Method, r.URL.Path) {
		writeAppError(w, r, notImplementedError(r.Method+" "+r.URL.Path))
		return
	}
	writeAppError(w, r, &AppError{
		ID:            "api.context.404.app_error",
		Message:       "Sorry, we could not find the page.",
		DetailedError: "There doesn't appear to be an api call for the url='" + r.URL.Path + "'.",
		StatusCode:    http.StatusNotFound,
	})
}

var _ error = (*AppError)(nil)
