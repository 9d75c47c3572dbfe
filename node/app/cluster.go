package app

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/seed331fb32b/chorus/node/config"
)

// This file holds what the app does in a cluster: the events it sends to
// the other nodes when its caches' truth changes here, and what it does
// when another node sends them. The names are Mattermost's ClusterEvent
// names; node/server.go registers [App.ClusterHandlers] with the node's
// cluster and gives the cluster to [App.SetCluster].

// Inter-node events the app sends and handles. node/cluster declares the
// same names (a test in node checks they agree); "inv_teams" is the app's
// own use of Mattermost's name for team caches.
const (
	ClusterEventUpdateStatus            = "update_status"
	ClusterEventClearSessionUser        = "clear_session_user"
	ClusterEventInvalidateUser          = "inv_user"
	ClusterEventInvalidateChannelMember = "inv_profile_in_channel"
	ClusterEventInvalidateTeamMembers   = "inv_teams"
	ClusterEventInvalidateAllCaches     = "inv_all_caches"
)

// Cluster is what the app needs of the node's cluster (node/cluster's
// *Cluster satisfies it).
//
// Contract: calls are concurrent. Send queues data for every other node
// and returns at once, never blocking on the network. RemoteSocketCount
// asks the other nodes how many WebSocket connections a user holds there;
// it blocks for at most the cluster's request timeout and, when some node
// did not answer, returns the count of those that did with an error.
// ConfigChanged announces the node's new configuration after a reload.
type Cluster interface {
	Send(ctx context.Context, event string, data []byte) error
	RemoteSocketCount(ctx context.Context, userID string) (int, error)
	ConfigChanged(ctx context.Context, cfg *config.Config) error
}

// clusterRef boxes a Cluster for the atomic pointer.
type clusterRef struct{ c Cluster }

// SetCluster makes the app tell c of the changes other nodes must know
// (nil: the node is alone). Call it before the cluster starts.
func (a *App) SetCluster(c Cluster) {
	if c == nil {
		a.cluster.Store(nil)
		return
	}
	a.cluster.Store(&clusterRef{c})
}

// clusterOf returns the Cluster set by SetCluster, or nil.
func (a *App) clusterOf() Cluster {
	if ref := a.cluster.Load(); ref != nil {
		return ref.c
	}
	return nil
}

// sendCluster sends event to the other nodes, if any. A failure is logged:
// the change is made here; the other nodes' caches expire anyway.
func (a *App) sendCluster(ctx context.Context, event string, data []byte) {
	c := a.clusterOf()
	if c == nil {
		return
	}
	if err := c.Send(ctx, event, data); err != nil {
		a.logger.Warn("Cannot tell the cluster", zap.String("event", event), zap.Error(err))
	}
}

// membersChanged drops the membership snapshot of key ("c:"+channel id or
// "t:"+team id) here and on every other node.
func (a *App) membersChanged(ctx context.Context, key string) {
	a.forgetMembers(key)
	switch {
	case strings.HasPrefix(key, "c:"):
		a.sendCluster(ctx, ClusterEventInvalidateChannelMember, []byte(key[2:]))
	case strings.HasPrefix(key, "t:"):
		a.sendCluster(ctx, ClusterEventInvalidateTeamMembers, []byte(key[2:]))
	}
}

// ClusterHandlers returns the app's handler of each inter-node event, for
// the node to register with its cluster. Handlers never send to the
// cluster again.
func (a *App) ClusterHandlers() map[string]func(ctx context.Context, data []byte) {
	return map[string]func(context.Context, []byte){
		ClusterEventUpdateStatus:            a.handleClusterStatus,
		ClusterEventClearSessionUser:        a.handleClearSessionUser,
		ClusterEventInvalidateUser:          func(_ context.Context, id []byte) { a.users.Delete(string(id)) },
		ClusterEventInvalidateChannelMember: func(_ context.Context, id []byte) { a.forgetMembers("c:" + string(id)) },
		ClusterEventInvalidateTeamMembers:   func(_ context.Context, id []byte) { a.forgetMembers("t:" + string(id)) },
		ClusterEventInvalidateAllCaches:     func(context.Context, []byte) { a.InvalidateAllCachesLocal() },
	}
}

// handleClusterStatus records a status another node set, so this node's
// status map (GET status, the get_statuses action) agrees. The event to
// the user's sockets came separately, as a published event.
func (a *App) handleClusterStatus(_ context.Context, data []byte) {
	var st UserStatus
	if err := json.Unmarshal(data, &st); err != nil || st.UserID == "" {
		a.logger.Warn("Ignoring a malformed status from the cluster", zap.Error(err))
		return
	}
	a.remember(&st)
}

// handleClearSessionUser drops the cached sessions of a user whose session
// was revoked on another node, so the next request with a revoked token
// reads the database and fails; the sockets of sessions no longer in the
// database are closed here too.
func (a *App) handleClearSessionUser(ctx context.Context, data []byte) {
	for _, s := range a.dropCachedSessions(string(data)) {
		_, err := a.stores.Sessions.GetByToken(a.master(ctx), s.Token)
		if !errors.Is(err, ErrNotFound) {
			continue // still valid (another of the user's sessions), or unknown: keep its sockets
		}
		if rt := a.realtime(); rt != nil {
			rt.CloseSession(s.ID)
		}
	}
}

// dropCachedSessions removes every cached session of userID from this
// node's cache and returns them.
func (a *App) dropCachedSessions(userID string) []*Session {
	var dropped []*Session
	for token, item := range a.sessions.Items() {
		if s, ok := item.Object.(*Session); ok && s.UserID == userID {
			a.sessions.Delete(token)
			dropped = append(dropped, s)
		}
	}
	return dropped
}

// InvalidateAllCachesLocal empties this node's caches (sessions, users,
// channels, membership snapshots), Mattermost's InvalidateAllCachesSkipSend.
func (a *App) InvalidateAllCachesLocal() {
	a.sessions.Flush()
	a.users.Flush()
	a.channels.Flush()
	a.members.Flush()
}

// InvalidateAllCaches empties this node's caches and every other node's,
// as Mattermost's POST /api/v4/caches/invalidate (system admins,
// invalidate_caches).
func (a *App) InvalidateAllCaches(ctx context.Context, s *Session) error {
	if err := a.RequireSystemAdmin(s, "invalidate_caches"); err != nil {
		return err
	}
	a.InvalidateAllCachesLocal()
	a.sendCluster(ctx, ClusterEventInvalidateAllCaches, nil)
	return nil
}

// statusChanged tells the other nodes of st, best effort.
func (a *App) statusChanged(ctx context.Context, st *UserStatus) {
	if a.clusterOf() == nil {
		return
	}
	data, err := json.Marshal(st)
	if err != nil {
		return
	}
	a.sendCluster(ctx, ClusterEventUpdateStatus, data)
}

// invalidationWait bounds how long a logout or a user patch waits for the
// other nodes to have dropped the session or the user.
const invalidationWait = time.Second

// awaitCluster returns once every live node has handled the events this
// node sent it before the call, or after invalidationWait. It asks the
// nodes a question (the socket count of userID): node/cluster sends
// requests on the same ordered, reliable stream as events and each node
// handles one sender's messages one at a time, in order, so a node's
// answer comes after its handlers of the earlier events have returned.
func (a *App) awaitCluster(ctx context.Context, userID string) {
	c := a.clusterOf()
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, invalidationWait)
	defer cancel()
	if _, err := c.RemoteSocketCount(ctx, userID); err != nil {
		a.logger.Warn("Not every node confirmed an invalidation in time", zap.String("user_id", userID), zap.Error(err))
	}
}

// remoteSocketTimeout bounds the question to the other nodes before a
// user is set offline.
const remoteSocketTimeout = 2 * time.Second

// socketsElsewhere reports whether userID holds a WebSocket on another
// node. When a node does not answer, the user is kept online: a wrong
// "online" fixes itself at the next transition, a wrong "offline" flickers
// in every client.
func (a *App) socketsElsewhere(ctx context.Context, userID string) bool {
	c := a.clusterOf()
	if c == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, remoteSocketTimeout)
	defer cancel()
	n, err := c.RemoteSocketCount(ctx, userID)
	if err != nil {
		a.logger.Warn("Cannot count the user's sockets on other nodes; keeping them online",
			zap.String("user_id", userID), zap.Int("counted", n), zap.Error(err))
		return true
	}
	return n > 0
}
