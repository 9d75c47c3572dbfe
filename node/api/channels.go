package api

import (
	"net/http"

	"github.com/seed331fb32b/chorus/node/app"
)

// createChannel serves POST /api/v4/channels: 201 with the channel.
func (h *handler) createChannel(w http.ResponseWriter, r *http.Request, s *app.Session) {
	nc, err := decodeNewChannel(r.Body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	c, err := h.app.CreateChannel(r.Context(), s, nc)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusCreated, c)
}

// getChannel serves GET /api/v4/channels/{channel_id}.
func (h *handler) getChannel(w http.ResponseWriter, r *http.Request, s *app.Session) {
	id, ok := pathID(w, r, "channel_id", s)
	if !ok {
		return
	}
	c, err := h.app.GetChannel(r.Context(), s, id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, c)
}

// addChannelMember serves POST /api/v4/channels/{channel_id}/members with
// {user_id} (Client4.addToChannel): 201 with the membership.
func (h *handler) addChannelMember(w http.ResponseWriter, r *http.Request, s *app.Session) {
	channelID, ok := pathID(w, r, "channel_id", s)
	if !ok {
		return
	}
	req, err := decodeMember(r.Body, "channel_member")
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !app.IsValidID(req.UserID) {
		writeError(w, r, badBody("user_id", nil))
		return
	}
	m, err := h.app.AddChannelMember(r.Context(), s, channelID, req.UserID)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusCreated, m)
}

// getChannelsForTeamForUser serves
// GET /api/v4/users/{user_id}/teams/{team_id}/channels.
func (h *handler) getChannelsForTeamForUser(w http.ResponseWriter, r *http.Request, s *app.Session) {
	userID, ok := pathID(w, r, "user_id", s)
	if !ok {
		return
	}
	teamID, ok := pathID(w, r, "team_id", s)
	if !ok {
		return
	}
	channels, err := h.app.GetChannelsForTeamUser(r.Context(), s, teamID, userID)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, channels)
}
