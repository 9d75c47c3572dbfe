package ws

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Queue is a connection's state as one node hands it to another
// (Mattermost's model.WSQueues), so a client whose node stopped resumes on
// another without losing events. It marshals to JSON for the trip.
type Queue struct {
	// ConnectionID is the connection's id.
	ConnectionID string `json:"connection_id"`
	// UserID is the connection's user; only that user may resume it.
	UserID string `json:"user_id"`
	// NextSeq is the seq the next event written will get.
	NextSeq int64 `json:"next_seq"`
	// Sent are the last events written, oldest first, with consecutive
	// seqs ending at NextSeq-1.
	Sent []QueuedEvent `json:"sent"`
	// Pending are the events not yet written, in order, without seq.
	Pending []QueuedEvent `json:"pending"`
}

// QueuedEvent is one event of a [Queue].
type QueuedEvent struct {
	// Seq is the seq the event was written with (Sent only).
	Seq int64 `json:"seq,omitempty"`
	// Event is the event's name.
	Event string `json:"event"`
	// JSON is the event as sent, without its seq.
	JSON json.RawMessage `json:"json"`
}

// TakeQueue removes connection connectionID of userID from this node and
// returns its queue, for the cluster to hand to the node its client
// reconnected to. A socket still attached to it is closed first (and
// takes its user's presence here with it). ok is false when this node has
// no such connection for userID, or it expired.
func (h *Hub) TakeQueue(userID, connectionID string) (q Queue, ok bool) {
	h.mu.RLock()
	c := h.byID[connectionID]
	h.mu.RUnlock()
	if c == nil || c.userID != userID {
		return Queue{}, false
	}
	c.attachMu.Lock()
	defer c.attachMu.Unlock()
	h.mu.Lock()
	if c.removed || h.expiredLocked(c, h.now()) {
		h.removeLocked(c)
		h.mu.Unlock()
		return Queue{}, false
	}
	id := c.id
	s := h.removeLocked(c)
	h.mu.Unlock()
	if s != nil {
		s.close()
		<-s.writerDone
	}
	// c is out of the index, so no publisher reaches its queue any more,
	// and its writer has exited: c is ours.
	q = Queue{ConnectionID: id, UserID: c.userID, NextSeq: c.seq}
	c.dead.all(func(e sentEvent) bool {
		q.Sent = append(q.Sent, QueuedEvent{Seq: e.seq, Event: e.f.event, JSON: e.f.eventJSON()})
		return true
	})
drain:
	for {
		select {
		case f := <-c.send:
			if !f.reply { // replies are for the socket that asked
				q.Pending = append(q.Pending, QueuedEvent{Event: f.event, JSON: f.eventJSON()})
			}
		default:
			break drain
		}
	}
	c.dead.reset()
	return q, true
}

// adopt builds a connection of userID from a queue another node handed
// over, checking it as input from the network. The connection is not in
// the index yet.
func (h *Hub) adopt(q Queue, userID, sessionID string) (*conn, error) {
	switch {
	case q.UserID != userID:
		return nil, errors.New("ws: queue of another user")
	case !isValidID(q.ConnectionID):
		return nil, errors.New("ws: queue with an invalid connection id")
	case q.NextSeq < 0:
		return nil, errors.New("ws: queue with a negative seq")
	case len(q.Pending) > h.cfg.SendQueueSize:
		return nil, fmt.Errorf("ws: queue with %d pending events, more than SendQueueSize", len(q.Pending))
	}
	if n := int64(len(q.Sent)); n > 0 {
		for i, e := range q.Sent {
			if e.Seq != q.NextSeq-n+int64(i) {
				return nil, errors.New("ws: queue with sent seqs that are not consecutive up to next_seq")
			}
		}
	}
	c := newConn(q.ConnectionID, userID, sessionID, h.cfg)
	c.seq = q.NextSeq
	sent := q.Sent
	if len(sent) > h.cfg.DeadQueueSize {
		sent = sent[len(sent)-h.cfg.DeadQueueSize:]
	}
	for _, e := range sent {
		f, err := eventFrameFromJSON(e.Event, e.JSON)
		if err != nil {
			return nil, fmt.Errorf("sent event %d: %w", e.Seq, err)
		}
		c.dead.push(e.Seq, f)
	}
	for i, e := range q.Pending {
		f, err := eventFrameFromJSON(e.Event, e.JSON)
		if err != nil {
			return nil, fmt.Errorf("pending event %d: %w", i, err)
		}
		c.send <- f // fits: checked against SendQueueSize above
	}
	return c, nil
}
