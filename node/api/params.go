package api

import (
	"net/http"
	"strconv"

	"github.com/seed331fb32b/chorus/node/app"
)

// invalidURLParam is Mattermost's c.SetInvalidURLParam: 400
// api.context.invalid_url_param.app_error.
func invalidURLParam(name string) *AppError {
	return &AppError{ID: "api.context.invalid_url_param.app_error",
		Message:    "Invalid or missing " + name + " parameter in request URL.",
		StatusCode: http.StatusBadRequest}
}

// pathID returns the path parameter name, which must be an id. For
// user_id, "me" is the session's user, as everywhere in Mattermost's API.
// An invalid id is answered with 400 (ok false).
func pathID(w http.ResponseWriter, r *http.Request, name string, s *app.Session) (id string, ok bool) {
	id = r.PathValue(name)
	if name == "user_id" && id == "me" && s != nil {
		return s.UserID, true
	}
	if !app.IsValidID(id) {
		writeError(w, r, invalidURLParam(name))
		return "", false
	}
	return id, true
}

// queryInt returns the query parameter name as an int, or def when it is
// missing, not a number or negative (Mattermost's ParamsFromRequest is as
// lenient for page and per_page).
func queryInt(r *http.Request, name string, def int) int {
	v, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil || v < 0 {
		return def
	}
	return v
}

// statusOK is Mattermost's ReturnStatusOK body.
var statusOK = map[string]string{"status": "OK"}
