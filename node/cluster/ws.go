package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"go.uber.org/zap"

	"github.com/seed331fb32b/chorus/node/ws"
)

// This file is the cluster's side of node/ws: events published on this
// node reach the sockets of the others, and a connection moves to the
// node its client reconnected to.

// Forward sends a WebSocket event published on this node (after its local
// delivery) to every other live app node, which delivers it to its own
// sockets with PublishLocal and never forwards it again. posted,
// post_edited, direct_added, group_added and added_to_team go reliably
// (TCP), as Mattermost sends them; other events best effort (UDP), unless
// larger than Config.MaxBestEffortSize. It queues and returns at once.
func (c *Cluster) Forward(_ context.Context, ev ws.Event) {
	data, err := json.Marshal(ev)
	if err != nil {
		c.log.Warn("Cannot forward a WebSocket event to the other nodes", zap.String("event", ev.Event), zap.Error(err))
		return
	}
	raw, err := json.Marshal(Message{Event: EventPublish, Data: data})
	if err != nil {
		return
	}
	c.broadcast(raw, reliablePublish[ev.Event] || len(raw) > c.cfg.MaxBestEffortSize)
}

// wireEvent decodes a forwarded event without decoding its data, which
// the hub sends on as it came.
type wireEvent struct {
	Event     string          `json:"event"`
	Data      json.RawMessage `json:"data"`
	Broadcast ws.Broadcast    `json:"broadcast"`
}

// deliverPublish delivers an event another node published to this node's
// sockets.
func (c *Cluster) deliverPublish(data []byte) {
	hub := c.deps.Hub
	if hub == nil {
		return
	}
	var we wireEvent
	if err := json.Unmarshal(data, &we); err != nil {
		c.log.Debug("Ignoring a malformed WebSocket event from another node", zap.Error(err))
		return
	}
	ev := ws.Event{Event: we.Event, Broadcast: we.Broadcast}
	if len(we.Data) > 0 && string(we.Data) != "null" {
		ev.Data = we.Data
	}
	if err := hub.PublishLocal(c.ctx, ev); err != nil && !errors.Is(err, ws.ErrClosed) {
		c.log.Debug("Cannot deliver a WebSocket event from another node", zap.String("event", we.Event), zap.Error(err))
	}
}

// FetchQueue asks the other nodes for WebSocket connection connectionID
// of userID (Mattermost's gossip_request_ws_queues): the node that holds
// it hands it over (node/ws's TakeQueue, which closes the connection
// there) and ok is true. ok is false when every node answered that it has
// no such connection, or no other node is live. It waits at most
// Config.RequestTimeout (less if ctx ends sooner); err is set when some
// node did not answer in time.
func (c *Cluster) FetchQueue(ctx context.Context, userID, connectionID string) (ws.Queue, bool, error) {
	ctx, cancel := c.requestContext(ctx)
	defer cancel()
	ch, asked, done := c.request(requestWSQueues, map[string]string{"user_id": userID, "connection_id": connectionID}, nil)
	defer done()
	for answered := 0; answered < asked; {
		select {
		case r, open := <-ch:
			if !open {
				return ws.Queue{}, false, errors.New("cluster: stopped")
			}
			answered++
			if r.msg.Props["found"] != "true" {
				continue
			}
			var q ws.Queue
			if err := json.Unmarshal(r.msg.Data, &q); err != nil {
				return ws.Queue{}, false, fmt.Errorf("cluster: queue from node %s: %w", r.from, err)
			}
			return q, true, nil
		case <-ctx.Done():
			return ws.Queue{}, false, fmt.Errorf("cluster: fetching connection %s: %d of %d nodes answered: %w", connectionID, answered, asked, ctx.Err())
		}
	}
	return ws.Queue{}, false, nil
}

// RemoteSocketCount returns how many open WebSocket connections userID
// has on the other live app nodes (Mattermost's WebConnCountForUser), so
// the app sets a user offline only when no node holds a socket of theirs.
// It waits at most Config.RequestTimeout; when some node did not answer
// in time it returns the count of those that did and an error.
func (c *Cluster) RemoteSocketCount(ctx context.Context, userID string) (int, error) {
	ctx, cancel := c.requestContext(ctx)
	defer cancel()
	ch, asked, done := c.request(requestWebConnCount, map[string]string{"user_id": userID}, nil)
	defer done()
	total := 0
	for answered := 0; answered < asked; {
		select {
		case r, open := <-ch:
			if !open {
				return total, errors.New("cluster: stopped")
			}
			answered++
			n, err := strconv.Atoi(string(r.msg.Data))
			if err != nil {
				return total, fmt.Errorf("cluster: socket count from node %s: %w", r.from, err)
			}
			total += n
		case <-ctx.Done():
			return total, fmt.Errorf("cluster: counting sockets of %s: %d of %d nodes answered: %w", userID, answered, asked, ctx.Err())
		}
	}
	return total, nil
}

// Interface guard: node/ws's seam.
var _ ws.Cluster = (*Cluster)(nil)
