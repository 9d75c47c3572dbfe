package cluster

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/seed331fb32b/chorus/node/store"
)

// This file is discovery through the ClusterDiscovery table, as
// Mattermost's discovery service does it (server/channels/app/platform/
// cluster_discovery.go): clean the stale rows, replace this node's row,
// refresh it every PingInterval, delete it at a clean stop; a starting
// node joins the gossip at hostname:gossipport of the live rows.

// register cleans stale rows and saves this node's row, replacing a stale
// one of the same address (a restart).
func (c *Cluster) register(ctx context.Context) error {
	_, portStr, _ := net.SplitHostPort(c.g.localAddr())
	port, _ := strconv.Atoi(portStr)
	now := c.now()
	row := &store.ClusterDiscovery{
		ID:          newID(),
		Type:        Type,
		ClusterName: c.cfg.Settings.ClusterName,
		Hostname:    c.host,
		GossipPort:  port,
		CreateAt:    now.UnixMilli(),
		LastPingAt:  now.UnixMilli(),
	}
	c.row.Store(row)
	if n, err := c.deps.Discovery.Cleanup(ctx, now.Add(-c.cfg.OfflineAfter).UnixMilli()); err != nil {
		c.log.Warn("Cannot clean stale cluster discovery rows", zap.Error(err))
	} else if n > 0 {
		c.log.Info("Cleaned stale cluster discovery rows", zap.Int64("rows", n))
	}
	if _, err := c.deps.Discovery.Delete(ctx, row); err != nil {
		return fmt.Errorf("cluster: deleting this node's old discovery row: %w", err)
	}
	if err := c.deps.Discovery.Save(ctx, row); err != nil {
		return fmt.Errorf("cluster: saving this node's discovery row: %w", err)
	}
	return nil
}

// joinLive joins the nodes of the rows pinged within aliveWithin that are
// not members yet. A failure is logged, not returned: the node may be
// the first, or the others may be down.
func (c *Cluster) joinLive(ctx context.Context, aliveWithin time.Duration) {
	rows, err := c.deps.Discovery.GetAll(ctx, Type, c.cfg.Settings.ClusterName, c.now().Add(-aliveWithin).UnixMilli())
	if err != nil {
		if c.ctx.Err() == nil {
			c.log.Warn("Cannot read the cluster discovery rows", zap.Error(err))
		}
		return
	}
	known := c.g.memberAddrs()
	own := c.row.Load()
	self := net.JoinHostPort(own.Hostname, strconv.Itoa(own.GossipPort))
	var addrs []string
	for _, r := range rows {
		addr := net.JoinHostPort(r.Hostname, strconv.Itoa(r.GossipPort))
		if addr != self && r.ID != own.ID && !known[addr] {
			addrs = append(addrs, addr)
		}
	}
	if len(addrs) == 0 {
		return
	}
	n, err := c.g.join(addrs)
	switch {
	case n > 0:
		c.log.Info("Joined cluster nodes found in ClusterDiscovery", zap.Strings("addresses", addrs), zap.Int("answered", n))
	case err != nil:
		// memberlist's own warnings say why (another ClusterName is an
		// "unacceptable label", another key "no installed keys could
		// decrypt"); a node that is down just refuses.
		c.log.Info("No cluster node found in ClusterDiscovery answered; a node with another ClusterName or gossip key is refused",
			zap.Strings("addresses", addrs), zap.Error(err))
	}
}

// heartbeatLoop refreshes this node's row every PingInterval, saving it
// again if it was cleaned away meanwhile (the node was paused).
func (c *Cluster) heartbeatLoop() {
	defer c.bg.Done()
	t := time.NewTicker(c.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		now := c.now().UnixMilli()
		own := c.row.Load()
		ok, err := c.deps.Discovery.SetLastPingAt(c.ctx, own, now)
		switch {
		case err != nil && c.ctx.Err() != nil:
			return // stopping
		case err != nil:
			c.log.Warn("Cannot refresh this node's cluster discovery row", zap.Error(err))
		case !ok:
			row := *own
			row.ID, row.CreateAt, row.LastPingAt = newID(), now, now
			if err := c.deps.Discovery.Save(c.ctx, &row); err != nil {
				c.log.Warn("Cannot save this node's cluster discovery row again", zap.Error(err))
			} else {
				c.row.Store(&row)
				c.log.Info("This node's cluster discovery row was gone; saved it again")
			}
		}
	}
}

// rejoinLoop joins, every RejoinInterval, the nodes with recently
// refreshed rows that are not members, so the two sides of a healed
// partition, or a node restored after being cut off, merge again:
// memberlist itself never probes a member it declared dead.
func (c *Cluster) rejoinLoop() {
	defer c.bg.Done()
	t := time.NewTicker(c.cfg.RejoinInterval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		c.joinLive(c.ctx, 2*c.cfg.PingInterval)
		c.sweepInboxes(time.Minute)
	}
}

// sweepInboxes ends the inboxes of senders that are not members and sent
// nothing for idle: a message that arrived after its sender left made
// one again.
func (c *Cluster) sweepInboxes(idle time.Duration) {
	c.mu.Lock()
	members := make(map[string]bool, len(c.members))
	for id := range c.members {
		members[id] = true
	}
	c.mu.Unlock()
	c.inboxMu.Lock()
	defer c.inboxMu.Unlock()
	for id, in := range c.inboxes {
		if !members[id] && time.Since(in.idleSince()) > idle {
			in.close()
			delete(c.inboxes, id)
		}
	}
}
