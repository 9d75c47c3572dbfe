package api

import (
	"net/http"

	"github.com/seed331fb32b/chorus/node/app"
)

// createTeam serves POST /api/v4/teams: 201 with the team.
func (h *handler) createTeam(w http.ResponseWriter, r *http.Request, s *app.Session) {
	nt, err := decodeNewTeam(r.Body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	t, err := h.app.CreateTeam(r.Context(), s, nt)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusCreated, t)
}

// getTeam serves GET /api/v4/teams/{team_id}.
func (h *handler) getTeam(w http.ResponseWriter, r *http.Request, s *app.Session) {
	id, ok := pathID(w, r, "team_id", s)
	if !ok {
		return
	}
	t, err := h.app.GetTeam(r.Context(), s, id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, t)
}

// addTeamMember serves POST /api/v4/teams/{team_id}/members with
// {team_id, user_id} (Client4.addToTeam): 201 with the membership.
func (h *handler) addTeamMember(w http.ResponseWriter, r *http.Request, s *app.Session) {
	teamID, ok := pathID(w, r, "team_id", s)
	if !ok {
		return
	}
	req, err := decodeMember(r.Body, "team_member")
	if err != nil {
		writeError(w, r, err)
		return
	}
	switch {
	case req.TeamID != teamID: // Mattermost requires the body to name the path's team
		writeError(w, r, badBody("team_id", nil))
		return
	case !app.IsValidID(req.UserID):
		writeError(w, r, badBody("user_id", nil))
		return
	}
	m, err := h.app.AddTeamMember(r.Context(), s, teamID, req.UserID)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusCreated, m)
}

// getTeamsForUser serves GET /api/v4/users/{user_id}/teams.
func (h *handler) getTeamsForUser(w http.ResponseWriter, r *http.Request, s *app.Session) {
	userID, ok := pathID(w, r, "user_id", s)
	if !ok {
		return
	}
	teams, err := h.app.GetTeamsForUser(r.Context(), s, userID)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, teams)
}
