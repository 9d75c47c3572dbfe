package api

import (
	"net/http"

	"github.com/seed331fb32b/chorus/node/app"
)

// getUserStatus serves GET /api/v4/users/{user_id}/status: any logged-in
// user may read anyone's; a user without one is offline.
func (h *handler) getUserStatus(w http.ResponseWriter, r *http.Request, s *app.Session) {
	userID, ok := pathID(w, r, "user_id", s)
	if !ok {
		return
	}
	st, err := h.app.GetStatus(r.Context(), userID)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, st)
}

// updateUserStatus serves PUT /api/v4/users/{user_id}/status with
// {user_id, status, dnd_end_time}: the body must name the path's user.
func (h *handler) updateUserStatus(w http.ResponseWriter, r *http.Request, s *app.Session) {
	userID, ok := pathID(w, r, "user_id", s)
	if !ok {
		return
	}
	req, err := decodeStatus(r.Body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if req.UserID != userID {
		writeError(w, r, badBody("user_id", nil))
		return
	}
	st, err := h.app.UpdateStatus(r.Context(), s, userID, req.Status, req.DNDEndTime)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, st)
}

// getUserStatusesByIDs serves POST /api/v4/users/status/ids: the statuses
// of a JSON array of user ids, in its order.
func (h *handler) getUserStatusesByIDs(w http.ResponseWriter, r *http.Request, _ *app.Session) {
	ids, err := decodeIDs(r.Body, "user_ids")
	if err != nil {
		writeError(w, r, err)
		return
	}
	statuses, err := h.app.GetStatuses(r.Context(), ids)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, statuses)
}
