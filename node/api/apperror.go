package api

import (
	"encoding/json"
	"net/http"
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

// notFound answers a path under /api/ that has no route, as Mattermost's
// web.Handle404 does for API calls. Mattermost 10 and 11 append
// "  Typo? are you missing a team_id or user_id as part of the url?" to the
// detail; Chorus keeps the shorter wording older releases used.
func notFound(w http.ResponseWriter, r *http.Request) {
	writeAppError(w, r, &AppError{
		ID:            "api.context.404.app_error",
		Message:       "Sorry, we could not find the page.",
		DetailedError: "There doesn't appear to be an api call for the url='" + r.URL.Path + "'.",
		StatusCode:    http.StatusNotFound,
	})
}

var _ error = (*AppError)(nil)
