package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strconv"

	"go.uber.org/zap"
)

// Requests are messages every other live app node answers, over the
// reliable path both ways (Mattermost's gossip_request_*/gossip_response_*
// pairs): props["req_id"] ties an answer to its request.

// response is one node's answer to a request.
type response struct {
	from string
	msg  Message
}

// request sends a request to every other live app node and returns a
// channel of their answers, the number of nodes asked, and a cancel
// function the caller must call when done reading. The channel is closed
// when the cluster stops.
func (c *Cluster) request(event string, props map[string]string, data []byte) (<-chan response, int, func()) {
	var b [12]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	all := map[string]string{"req_id": id}
	for k, v := range props {
		all[k] = v
	}
	raw, _ := json.Marshal(Message{Event: event, Data: data, Props: all}) // strings and bytes only
	peers := *c.peerList.Load()
	ch := make(chan response, len(peers))
	c.reqMu.Lock()
	if c.ctx.Err() != nil {
		c.reqMu.Unlock()
		close(ch)
		return ch, 0, func() {}
	}
	c.pending[id] = ch
	c.reqMu.Unlock()
	for _, p := range peers {
		p.enqueue(outMsg{raw: raw, reliable: true})
	}
	return ch, len(peers), func() {
		c.reqMu.Lock()
		delete(c.pending, id)
		c.reqMu.Unlock()
	}
}

// requestContext bounds a request by Config.RequestTimeout unless ctx
// ends sooner.
func (c *Cluster) requestContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.cfg.RequestTimeout)
}

// answer routes a response to the request waiting for it; a late one
// (the requester gave up) is dropped.
func (c *Cluster) answer(from string, m Message) {
	c.reqMu.Lock()
	defer c.reqMu.Unlock()
	ch := c.pending[m.Props["req_id"]]
	if ch == nil {
		return
	}
	select {
	case ch <- response{from: from, msg: m}:
	default: // more answers than nodes asked: a duplicate
	}
}

// serve answers a request from another node on a goroutine of its own
// (bounded), so a slow answer never holds up that node's events.
func (c *Cluster) serve(from string, m Message) {
	select {
	case c.reqSem <- struct{}{}:
	case <-c.ctx.Done():
		return
	}
	go func() {
		defer func() { <-c.reqSem }()
		data, props := c.handleRequest(m)
		if props == nil {
			props = map[string]string{}
		}
		props["req_id"] = m.Props["req_id"]
		raw, err := json.Marshal(Message{Event: eventResponse, Data: data, Props: props})
		if err != nil {
			return
		}
		if !c.sendTo(from, raw) {
			c.log.Debug("Cannot answer a node that is no longer a member", zap.String("peer_id", from), zap.String("event", m.Event))
		}
	}()
}

// handleRequest computes this node's answer to one request.
func (c *Cluster) handleRequest(m Message) (data []byte, props map[string]string) {
	hub := c.deps.Hub
	switch m.Event {
	case requestWSQueues:
		if hub == nil {
			return nil, map[string]string{"found": "false"}
		}
		q, ok := hub.TakeQueue(m.Props["user_id"], m.Props["connection_id"])
		if !ok {
			return nil, map[string]string{"found": "false"}
		}
		b, err := json.Marshal(q)
		if err != nil {
			return nil, map[string]string{"found": "false"}
		}
		c.log.Info("Handed a WebSocket connection's queue to another node",
			zap.String("connection_id", q.ConnectionID), zap.Int("pending", len(q.Pending)), zap.Int("sent", len(q.Sent)))
		return b, map[string]string{"found": "true"}
	case requestWebConnCount:
		n := 0
		if hub != nil {
			n = hub.UserSocketCount(m.Props["user_id"])
		}
		return []byte(strconv.Itoa(n)), nil
	case requestClusterStats:
		st := nodeStats{WebSocketCount: 0}
		if hub != nil {
			st.WebSocketCount = hub.SocketCount()
		}
		b, _ := json.Marshal(st)
		return b, nil
	}
	return nil, map[string]string{"error": "unknown request"}
}

// nodeStats is a node's answer to requestClusterStats.
type nodeStats struct {
	WebSocketCount int `json:"websocket_count"`
}
