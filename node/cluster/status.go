package cluster

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// NodeInfo is one live app node in the cluster status. Its first six
// fields are Mattermost's model.ClusterInfo, the JSON of
// GET /api/v4/cluster/status; the others are Chorus's, which Mattermost
// clients ignore.
type NodeInfo struct {
	ID            string `json:"id"`
	Version       string `json:"version"`
	SchemaVersion string `json:"schema_version"`
	ConfigHash    string `json:"config_hash"`
	IPAddress     string `json:"ipaddress"` // the gossip address, host:port
	Hostname      string `json:"hostname"`

	// API is where the node serves HTTP.
	API string `json:"api"`
	// State is StateServing or StateDraining.
	State string `json:"state"`
	// Leader marks the leader; Self the node that answered the status.
	Leader bool `json:"leader"`
	Self   bool `json:"self"`
	// ClockOffsetMillis is how far the node's clock is ahead of the
	// answering node's (negative: behind), in milliseconds, measured over
	// the gossip's probes; nil until a probe measured it (0 for Self).
	ClockOffsetMillis *float64 `json:"clock_offset_ms"`
	// ClockSkew is true when the offset exceeds Config.MaxClockSkew.
	ClockSkew bool `json:"clock_skew"`
	// WebSocketCount is the node's open WebSocket connections; nil when
	// the node did not answer in time (Reachable false).
	WebSocketCount *int `json:"websocket_count"`
	// Reachable is false when the node is a member but did not answer the
	// status request within Config.RequestTimeout.
	Reachable bool `json:"reachable"`
}

// Status returns every live app node as this node sees it, ordered by id:
// metadata from the gossip, clock offsets measured here, and each node's
// WebSocket count, asked for with a request that waits at most
// Config.RequestTimeout (less if ctx ends sooner). Before Start and after
// Stop it returns an empty list.
func (c *Cluster) Status(ctx context.Context) []NodeInfo {
	ctx, cancel := c.requestContext(ctx)
	defer cancel()
	ch, asked, done := c.request(requestClusterStats, nil, nil)
	defer done()
	counts := map[string]int{}
wait:
	for answered := 0; answered < asked; answered++ {
		select {
		case r, open := <-ch:
			if !open {
				break wait
			}
			var st nodeStats
			if json.Unmarshal(r.msg.Data, &st) == nil {
				counts[r.from] = st.WebSocketCount
			}
		case <-ctx.Done():
			break wait
		}
	}

	c.mu.Lock()
	members := make(map[string]Meta, len(c.members))
	addrs := make(map[string]string, len(c.addrs))
	for id, m := range c.members {
		members[id], addrs[id] = m, c.addrs[id]
	}
	leader := c.leader
	c.mu.Unlock()
	if hub := c.deps.Hub; hub != nil {
		counts[c.cfg.NodeID] = hub.SocketCount()
	} else if _, ok := members[c.cfg.NodeID]; ok {
		counts[c.cfg.NodeID] = 0
	}

	out := make([]NodeInfo, 0, len(members))
	for id, m := range members {
		n := NodeInfo{
			ID: id, Version: m.Version, SchemaVersion: m.SchemaVersion, ConfigHash: m.ConfigHash,
			IPAddress: addrs[id], Hostname: m.Hostname, API: m.API, State: m.State,
			Leader: id == leader, Self: id == c.cfg.NodeID,
		}
		if id == c.cfg.NodeID {
			// Our own metadata as it is now, before the gossip echoes it.
			c.metaMu.Lock()
			me := c.meta
			c.metaMu.Unlock()
			n.Version, n.SchemaVersion, n.ConfigHash, n.Hostname, n.API, n.State =
				me.Version, me.SchemaVersion, me.ConfigHash, me.Hostname, me.API, me.State
			zero := 0.0
			n.ClockOffsetMillis = &zero
		} else if e, ok := c.clocks.get(id); ok {
			ms := float64(e.offset) / float64(time.Millisecond)
			n.ClockOffsetMillis = &ms
			n.ClockSkew = e.offset > c.cfg.MaxClockSkew || -e.offset > c.cfg.MaxClockSkew
		}
		if cnt, ok := counts[id]; ok {
			n.WebSocketCount, n.Reachable = &cnt, true
		}
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b NodeInfo) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}
