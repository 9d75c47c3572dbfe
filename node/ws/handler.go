package ws

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"go.uber.org/zap"
)

// sessionCookie is the cookie Mattermost keeps the session token in.
const sessionCookie = "MMAUTHTOKEN"

// ServeHTTP upgrades a GET /api/v4/websocket request. A token in the
// MMAUTHTOKEN cookie or an "Authorization: Bearer|Token" header (checked in
// that order, as Mattermost does) that the [Authenticator] accepts
// authenticates the socket at once: it gets hello, or the events it
// missed when connection_id and sequence_number name a connection it may
// resume. Without one, the socket must send an authentication_challenge
// within AuthTimeout. A malformed connection_id or sequence_number gets
// 400 before the upgrade; a closed or draining Hub, 503.
//
// w may wrap the server's ResponseWriter if it has an
// Unwrap() http.ResponseWriter method (as node/api's does): the upgrade
// needs the connection underneath.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	wantID, wantSeq, msg := resumeParams(r)
	if msg != "" {
		writeAppError(w, &AppError{ID: "api.web_socket.connect.upgrade.app_error",
			Message: "Failed to upgrade websocket connection.", DetailedError: msg,
			RequestID: w.Header().Get("X-Request-ID"), StatusCode: http.StatusBadRequest})
		return
	}
	var userID, sessionID string
	if token := tokenFromRequest(r); token != "" {
		var err error
		userID, sessionID, err = h.deps.Auth.Authenticate(r.Context(), token)
		if err != nil {
			// As Mattermost: the socket opens unauthenticated and may
			// still send a challenge.
			h.log.Debug("WebSocket upgrade with an invalid token", zap.Error(err))
			userID, sessionID = "", ""
		}
	}

	h.mu.Lock()
	if h.closed || h.draining {
		h.mu.Unlock()
		writeAppError(w, &AppError{ID: "api.web_socket.connect.upgrade.app_error",
			Message: "Failed to upgrade websocket connection.", DetailedError: "the server is stopping",
			RequestID: w.Header().Get("X-Request-ID"), StatusCode: http.StatusServiceUnavailable})
		return
	}
	h.served.Add(1)
	h.mu.Unlock()
	defer h.served.Done()

	wsConn, err := h.upgrader.Upgrade(withCork(hijackable(w)), r, nil)
	if err != nil {
		return // upgradeError answered
	}
	s := h.newSocket(wsConn, wantID, wantSeq)
	if userID != "" && !h.attach(s, userID, sessionID) {
		s.close()
	}
	h.serveSocket(s)
}

// resumeParams reads connection_id and sequence_number. As Mattermost's
// PopulateWebConnConfig: an empty connection_id means a new connection;
// otherwise it must be a valid id and sequence_number a non-negative
// integer. msg says what is wrong, or is "".
func resumeParams(r *http.Request) (id string, seq int64, msg string) {
	q := r.URL.Query()
	id = q.Get("connection_id")
	if id == "" {
		return "", 0, ""
	}
	if !isValidID(id) {
		return "", 0, "invalid connection_id"
	}
	seq, err := strconv.ParseInt(q.Get("sequence_number"), 10, 64)
	if err != nil || seq < 0 {
		return "", 0, "invalid or missing sequence_number"
	}
	return id, seq, ""
}

// tokenFromRequest returns the session token of an upgrade request, as
// Mattermost's ParseAuthTokenFromRequest finds it: the MMAUTHTOKEN cookie
// first, then "Authorization: Bearer <t>", then "Authorization: Token <t>"
// (prefixes case-insensitive). "" when there is none.
func tokenFromRequest(r *http.Request) string {
	if c, err := r.Cookie(sessionCookie); err == nil {
		return c.Value
	}
	a := r.Header.Get("Authorization")
	if len(a) > 6 && strings.EqualFold(a[:6], "bearer") {
		return a[7:]
	}
	if len(a) > 5 && strings.EqualFold(a[:5], "token") {
		return a[6:]
	}
	return ""
}

// hijackable unwraps w until it can be hijacked: gorilla's upgrader
// asserts http.Hijacker on w itself, while node/api wraps the writer to
// record the status (and offers Unwrap for http.ResponseController).
func hijackable(w http.ResponseWriter) http.ResponseWriter {
	for {
		if _, ok := w.(http.Hijacker); ok {
			return w
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
}

// upgradeError answers a request gorilla refused to upgrade (not a
// WebSocket handshake, bad origin) with Mattermost's AppError.
func (h *Hub) upgradeError(w http.ResponseWriter, _ *http.Request, status int, reason error) {
	writeAppError(w, &AppError{ID: "api.web_socket.connect.upgrade.app_error",
		Message: "Failed to upgrade websocket connection.", DetailedError: reason.Error(),
		RequestID: w.Header().Get("X-Request-ID"), StatusCode: status})
}

// writeAppError writes e as a JSON response with status e.StatusCode and
// Content-Type exactly application/json, as @mattermost/client expects.
func writeAppError(w http.ResponseWriter, e *AppError) {
	body, _ := json.Marshal(e) // strings and an int: cannot fail
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.StatusCode)
	_, _ = w.Write(body)
}
