package api

import (
	"net/http"

	"github.com/seed331fb32b/chorus/node/app"
)

// createUser serves POST /api/v4/users: a sign-up, or an account made by a
// system admin (app.App.CreateUser has the rules). Invitations (?t=,
// ?iid=) are not supported. 201 with the user.
func (h *handler) createUser(w http.ResponseWriter, r *http.Request, s *app.Session) {
	q := r.URL.Query()
	if q.Get("t") != "" || q.Get("iid") != "" {
		writeError(w, r, notImplementedError("sign-up with an invitation token or invite id"))
		return
	}
	nu, err := decodeNewUser(r.Body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	u, err := h.app.CreateUser(r.Context(), s, nu)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusCreated, u)
}

// login serves POST /api/v4/users/login: on success the user, the session
// token in the Token header (Client4 reads it from there) and the
// MMAUTHTOKEN, MMUSERID and MMCSRF cookies (browsers use those).
func (h *handler) login(w http.ResponseWriter, r *http.Request, _ *app.Session) {
	creds, err := decodeLogin(r.Body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s, u, err := h.app.Login(r.Context(), creds)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set(headerToken, s.Token)
	setSessionCookies(w, r, s, h.app.SessionLength())
	writeJSON(w, r, http.StatusOK, u)
}

// logout serves POST /api/v4/users/logout: the session, if any, ends and
// its WebSocket connections close; the cookies are cleared either way, as
// in Mattermost, where the route needs no session.
func (h *handler) logout(w http.ResponseWriter, r *http.Request, s *app.Session) {
	if s != nil {
		if err := h.app.Logout(r.Context(), s); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	clearSessionCookies(w, r)
	writeJSON(w, r, http.StatusOK, statusOK)
}

// getUser serves GET /api/v4/users/{user_id} and GET /api/v4/users/me.
func (h *handler) getUser(w http.ResponseWriter, r *http.Request, s *app.Session) {
	id, ok := pathID(w, r, "user_id", s)
	if !ok {
		return
	}
	u, err := h.app.GetUser(r.Context(), s, id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, u)
}

// patchUser serves PUT /api/v4/users/{user_id}/patch: the fields of the
// body that are present change (app.App.PatchUser has the rules); 200
// with the user. As in Mattermost, the body is read before the
// permission is checked.
func (h *handler) patchUser(w http.ResponseWriter, r *http.Request, s *app.Session) {
	id, ok := pathID(w, r, "user_id", s)
	if !ok {
		return
	}
	p, err := decodeUserPatch(r.Body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	u, err := h.app.PatchUser(r.Context(), s, id, p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, u)
}

// getUsersByIDs serves POST /api/v4/users/ids: the users of a JSON array
// of ids that exist.
func (h *handler) getUsersByIDs(w http.ResponseWriter, r *http.Request, s *app.Session) {
	ids, err := decodeIDs(r.Body, "user_ids")
	if err != nil {
		writeError(w, r, err)
		return
	}
	users, err := h.app.GetUsers(r.Context(), s, ids)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, users)
}
