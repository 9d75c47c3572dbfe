package ws

import (
	"go.uber.org/zap"
)

// attach attaches the authenticated socket s to a connection of userID and
// starts its writer: the connection s.wantID when it can be resumed (here,
// or fetched from another node), else a new one, which starts with hello.
// It runs on s's reader goroutine and reports false when the Hub is
// closed or draining.
func (h *Hub) attach(s *socket, userID, sessionID string) bool {
	if s.wantID != "" {
		if c, id, ok := h.resume(s, userID, sessionID); ok {
			s.conn = c
			s.info = ConnInfo{UserID: userID, SessionID: sessionID, ConnectionID: id}
			return true
		}
	}
	c := newConn(newID(), userID, sessionID, h.cfg)
	c.attachMu.Lock()
	defer c.attachMu.Unlock()
	h.mu.Lock()
	if h.closed || h.draining {
		h.mu.Unlock()
		return false
	}
	c.sock = s
	h.insertLocked(c)
	h.addActiveLocked(userID, 1)
	h.mu.Unlock()
	s.conn = c
	s.info = ConnInfo{UserID: userID, SessionID: sessionID, ConnectionID: c.id}
	h.startWriter(s, c, preamble{hello: h.newHelloFrame(userID, c.id)})
	return true
}

// resume attaches s to the connection s.wantID of userID, held here or, if
// a cluster is set, fetched from another node. A socket still attached to
// it (its client came back before the server noticed it left) is closed
// first. It returns the connection and its id (new when events were lost)
// or false when there is no such connection for userID or it expired.
func (h *Hub) resume(s *socket, userID, sessionID string) (*conn, string, bool) {
	h.mu.RLock()
	c := h.byID[s.wantID]
	h.mu.RUnlock()
	if c == nil {
		return h.resumeRemote(s, userID, sessionID)
	}
	c.attachMu.Lock()
	defer c.attachMu.Unlock()
	h.mu.Lock()
	if h.closed || h.draining || c.removed || c.userID != userID {
		h.mu.Unlock()
		return nil, "", false
	}
	if h.expiredLocked(c, h.now()) {
		h.removeLocked(c)
		h.mu.Unlock()
		return nil, "", false
	}
	old := c.sock
	c.sock = s
	c.sessionID = sessionID
	if old == nil {
		h.addActiveLocked(userID, 1)
	} // else the user's count of open sockets moves from old to s
	h.mu.Unlock()
	if old != nil {
		old.close()
		<-old.writerDone
	}
	id := h.startResumed(s, c, s.wantSeq)
	return c, id, true
}

// resumeRemote fetches connection s.wantID of userID from the cluster,
// makes it local and attaches s to it.
func (h *Hub) resumeRemote(s *socket, userID, sessionID string) (*conn, string, bool) {
	cl := h.clusterOf()
	if cl == nil {
		return nil, "", false
	}
	q, ok, err := cl.FetchQueue(s.ctx, userID, s.wantID)
	if err != nil {
		h.log.Info("Cannot fetch a WebSocket connection's queue from the cluster",
			zap.String("connection_id", s.wantID), zap.Error(err))
		return nil, "", false
	}
	if !ok {
		return nil, "", false
	}
	c, err := h.adopt(q, userID, sessionID)
	if err != nil {
		h.log.Info("Ignoring the queue of a WebSocket connection from the cluster",
			zap.String("connection_id", s.wantID), zap.Error(err))
		return nil, "", false
	}
	c.attachMu.Lock()
	defer c.attachMu.Unlock()
	h.mu.Lock()
	if h.closed || h.draining || h.byID[c.id] != nil {
		h.mu.Unlock()
		return nil, "", false
	}
	c.sock = s
	h.insertLocked(c)
	h.addActiveLocked(userID, 1)
	h.mu.Unlock()
	id := h.startResumed(s, c, s.wantSeq)
	return c, id, true
}

// startResumed decides what the client that expects seq next has missed
// and starts s's writer on c accordingly, as Mattermost's writePump does:
// nothing (it has everything written), a replay from the ring, or, when
// the ring no longer holds seq, a new connection_id, seq 0 and a hello
// (the client then resynchronises). The caller holds c.attachMu and owns
// c's seq and ring. It returns the connection's id.
func (h *Hub) startResumed(s *socket, c *conn, seq int64) string {
	var pre preamble
	h.mu.RLock()
	id := c.id
	h.mu.RUnlock()
	switch {
	case seq == c.seq:
	case c.dead.contains(seq):
		pre = preamble{replay: true, replayFrom: seq}
	default:
		id = newID()
		h.mu.Lock()
		h.rekeyLocked(c, id)
		h.mu.Unlock()
		c.seq = 0
		c.dead.reset()
		pre = preamble{hello: h.newHelloFrame(c.userID, id)}
	}
	h.startWriter(s, c, pre)
	return id
}
