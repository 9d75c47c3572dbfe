package app

import (
	"context"

	"go.uber.org/zap"
)

// Event names the app publishes, Mattermost's.
const (
	EventPosted         = "posted"
	EventTyping         = "typing"
	EventStatusChange   = "status_change"
	EventUserAdded      = "user_added"
	EventAddedToTeam    = "added_to_team"
	EventChannelCreated = "channel_created"
	EventNewUser        = "new_user"
	EventUserUpdated    = "user_updated"
)

// Event is a real-time event for WebSocket clients, Mattermost's
// model.WebSocketEvent without its per-connection seq. Data is marshalled
// with encoding/json; nobody modifies an Event once published.
type Event struct {
	Name      string
	Data      map[string]any
	Broadcast Broadcast
}

// Broadcast selects who receives an [Event], Mattermost's
// model.WebsocketBroadcast: a user's sockets (UserID), a channel's or a
// team's members, or everyone, minus OmitUsers.
type Broadcast struct {
	OmitUsers        map[string]bool
	UserID           string
	ChannelID        string
	TeamID           string
	ConnectionID     string
	OmitConnectionID string
}

// Realtime is what the app needs of the node's WebSocket hub (node/ws):
// publishing events and closing a session's sockets. node/api adapts the
// hub to it.
//
// Contract: calls are concurrent. Publish must not block on sockets (the
// hub queues per connection); it may keep ev, which nobody modifies
// afterwards. CloseSession closes the sockets of a session on this node
// and reports how many.
type Realtime interface {
	Publish(ctx context.Context, ev Event) error
	CloseSession(sessionID string) int
}

// realtimeRef boxes a Realtime for the atomic pointer.
type realtimeRef struct{ r Realtime }

// SetRealtime makes the app publish its events to r (nil: events are
// dropped). The node calls it once the hub exists, since the hub needs
// the app first.
func (a *App) SetRealtime(r Realtime) {
	if r == nil {
		a.rt.Store(nil)
		return
	}
	a.rt.Store(&realtimeRef{r})
}

// realtime returns the Realtime set by SetRealtime, or nil.
func (a *App) realtime() Realtime {
	if ref := a.rt.Load(); ref != nil {
		return ref.r
	}
	return nil
}

// publish hands ev to the hub, if any. A failure is logged: an event is
// best effort, the request that caused it has succeeded.
func (a *App) publish(ctx context.Context, ev Event) {
	rt := a.realtime()
	if rt == nil {
		return
	}
	if err := rt.Publish(ctx, ev); err != nil {
		a.logger.Warn("Cannot publish an event", zap.String("event", ev.Name), zap.Error(err))
	}
}
