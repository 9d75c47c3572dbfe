package ws

import (
	"time"

	"go.uber.org/zap"
)

// route answers one request, as Mattermost's WebSocketRouter does: empty
// action, then bad seq, then the challenge, then "not authenticated", then
// ping (answered here) and everything else (the ActionHandler). It reports
// false when the socket must end.
func (h *Hub) route(s *socket, req Request) bool {
	switch {
	case req.Action == "":
		return h.reply(s, req.Seq, nil, &errNoAction)
	case req.Seq <= 0:
		return h.reply(s, req.Seq, nil, &errBadSeq)
	case req.Action == ActionAuthenticationChallenge:
		return h.challenge(s, req)
	case s.conn == nil:
		return h.reply(s, req.Seq, nil, &errNotAuthenticated)
	case req.Action == ActionPing:
		return h.reply(s, req.Seq, pongData{
			Text:       "pong",
			Version:    h.cfg.Version,
			ServerTime: time.Now().UnixMilli(),
			NodeID:     h.cfg.NodeID,
		}, nil)
	case h.deps.Actions == nil:
		return h.reply(s, req.Seq, nil, ErrUnknownAction)
	}
	data, err := h.deps.Actions.HandleAction(s.ctx, s.info, req)
	return h.reply(s, req.Seq, data, err)
}

// challenge handles authentication_challenge: ignored on an authenticated
// socket; a missing or rejected token closes the socket without a reply;
// a valid one attaches the socket (hello or replay first) and is answered
// OK.
func (h *Hub) challenge(s *socket, req Request) bool {
	if s.conn != nil {
		return true
	}
	token, ok := challengeToken(req.Data)
	if !ok {
		return false
	}
	userID, sessionID, err := h.deps.Auth.Authenticate(s.ctx, token)
	if err != nil {
		h.log.Debug("WebSocket authentication challenge failed", zap.Error(err))
		return false
	}
	if !h.attach(s, userID, sessionID) {
		return false
	}
	_ = s.ws.SetReadDeadline(time.Now().Add(h.cfg.PongWait))
	return h.reply(s, req.Seq, nil, nil)
}

// reply answers request seq with data or err. Before authentication the
// reader writes it itself (there is no writer yet); afterwards it joins
// the connection's queue behind the events already there. It reports
// false when the socket must end.
func (h *Hub) reply(s *socket, seq int64, data any, err error) bool {
	f, mErr := newReplyFrame(seq, data, err)
	if mErr != nil {
		h.log.Warn("Cannot marshal WebSocket reply", zap.Error(mErr))
		f, _ = newReplyFrame(seq, nil, &errHandler)
	}
	if s.conn == nil {
		return h.writeFrame(s, f, 0)
	}
	h.enqueue(s.conn, f)
	return true
}
