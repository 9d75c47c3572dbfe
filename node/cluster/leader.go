package cluster

import (
	"slices"

	"go.uber.org/zap"
)

// The leader is the live app member with the lowest node id, as
// Mattermost's docs describe it ("the process with the lowest node ID
// number from amongst the non-failed processes"; its PR #7105 says it
// tolerates several leaders for a moment, and so does Chorus: jobs are
// claimed in the database, see node/jobs). Every node computes it from
// its own view of the members, so views agree once the gossip has
// converged, within a failure-detection time of a change.

// electLocked recomputes the leader from the members and queues the
// change for the hooks. c.mu must be held.
func (c *Cluster) electLocked() {
	leader := ""
	for id := range c.members {
		if leader == "" || id < leader {
			leader = id
		}
	}
	if leader == c.leader {
		return
	}
	c.leader = leader
	select {
	case c.leaderQ <- struct{}{}:
	default: // the hook goroutine has yet to look; it will see this leader
	}
}

// IsLeader reports whether this node is the leader now. It is false
// before Start and after Stop.
func (c *Cluster) IsLeader() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leader != "" && c.leader == c.cfg.NodeID
}

// Leader returns the leader's node id now, "" before Start and after
// Stop.
func (c *Cluster) Leader() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leader
}

// OnLeaderChange registers fn to hear changes of leader (including the
// first, at Start): the new leader's id and whether it is this node.
// Hooks run one at a time on one goroutine, in the order of the changes;
// changes that happen while a hook runs are folded into one call with the
// leader at that point, so a hook sees every leader that lasted, never a
// stale one. Register hooks before Start.
func (c *Cluster) OnLeaderChange(fn func(leaderID string, isLeader bool)) {
	c.handlersMu.Lock()
	c.leaderHooks = append(c.leaderHooks, fn)
	c.handlersMu.Unlock()
}

// leaderLoop calls the hooks for each change until the cluster stops.
func (c *Cluster) leaderLoop() {
	defer c.bg.Done()
	announced := ""
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.leaderQ:
			leader := c.Leader()
			if leader == "" || leader == announced {
				continue
			}
			announced = leader
			isLeader := leader == c.cfg.NodeID
			c.log.Info("Cluster leader", zap.String("leader_id", leader), zap.Bool("this_node", isLeader))
			c.handlersMu.RLock()
			hooks := slices.Clone(c.leaderHooks)
			c.handlersMu.RUnlock()
			for _, fn := range hooks {
				fn(leader, isLeader)
			}
		}
	}
}
