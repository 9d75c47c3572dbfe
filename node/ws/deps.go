package ws

import (
	"context"
	"errors"
	"net/http"

	"go.uber.org/zap"
)

// Deps are what the Hub needs from the rest of the node. Auth and Members
// are required; the others may be nil. The cluster comes later, through
// [Hub.SetCluster], because it needs the Hub itself.
type Deps struct {
	// Auth resolves session tokens. Required.
	Auth Authenticator
	// Members resolves channel and team membership for targeting. Required.
	Members Membership
	// Actions answers the actions ws does not answer itself. Nil: every
	// such action gets Mattermost's "unknown action" error.
	Actions ActionHandler
	// Status hears when a user's first socket on this node opens and when
	// the last one closes. Nil: nobody is told.
	Status StatusHook
	// CheckOrigin decides whether a browser's cross-site upgrade is allowed
	// (Mattermost's AllowCorsFrom check). Nil: gorilla's default, which
	// accepts requests without an Origin header and same-host origins only,
	// so a page elsewhere cannot ride a user's MMAUTHTOKEN cookie.
	CheckOrigin func(r *http.Request) bool
	// Logger receives connection errors at debug level and dropped
	// connections at info level. Nil discards.
	Logger *zap.Logger
}

// Authenticator resolves a session token, as the node's REST API does for
// its requests. The Hub calls it at upgrade (token from
// "Authorization: Bearer|Token <t>" or the MMAUTHTOKEN cookie) and for an
// authentication_challenge action.
//
// Contract: calls are concurrent; it may block and do I/O (bounded by ctx);
// it must not keep ctx. Any error means "no valid session": at upgrade the
// socket stays unauthenticated (it may still send a challenge), on a
// challenge the socket is closed.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (userID, sessionID string, err error)
}

// AuthenticatorFunc adapts a function to [Authenticator].
type AuthenticatorFunc func(ctx context.Context, token string) (userID, sessionID string, err error)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(ctx context.Context, token string) (string, string, error) {
	return f(ctx, token)
}

// Membership resolves who may receive an event broadcast to a channel or a
// team. The app implements it over a cache, as Mattermost's hub consults
// per-connection channel caches.
//
// Contract: calls are concurrent and happen on the goroutine that called
// [Hub.Publish], once per published event that names a channel (or a team
// and no channel); they may block on a cache miss (bounded by ctx). The
// returned set is read without locks and is not kept after Publish
// returns: it must not be modified afterwards by anyone, so a cache hands
// out an immutable snapshot and replaces it rather than editing it. A nil
// set means no members. An error drops the event on this node and is
// returned by Publish.
type Membership interface {
	// ChannelMembers returns the user IDs of the members of channelID.
	ChannelMembers(ctx context.Context, channelID string) (map[string]struct{}, error)
	// TeamMembers returns the user IDs of the members of teamID.
	TeamMembers(ctx context.Context, teamID string) (map[string]struct{}, error)
}

// ConnInfo identifies the connection an action came from.
type ConnInfo struct {
	// UserID is the authenticated user.
	UserID string
	// SessionID is the session whose token authenticated the socket.
	SessionID string
	// ConnectionID is the connection's id, as its hello announced it; an
	// event with Broadcast.ConnectionID set to it reaches this connection
	// only, one with OmitConnectionID set to it skips it.
	ConnectionID string
}

// ActionHandler answers the client actions ws does not answer itself:
// everything except authentication_challenge and ping (user_typing,
// get_statuses, get_statuses_by_ids, user_update_active_status, presence,
// …). Only authenticated connections reach it, with a non-empty action and
// a positive seq.
//
// Contract: HandleAction runs on the connection's read goroutine: one
// connection's requests are handled one at a time, in order, and different
// connections' concurrently. It may block and do I/O (the connection reads
// nothing meanwhile; ctx ends when the socket closes) and may call
// [Hub.Publish]. It may keep req (req.Data is its own copy). It returns the
// reply's data (nil: a reply without data, marshalled with encoding/json)
// or an error: an [*AppError] is sent as the reply's error (its
// DetailedError blanked, as Mattermost does), an error wrapping
// [ErrUnknownAction] becomes Mattermost's 500 "bad action" error, anything
// else a 500 internal error.
type ActionHandler interface {
	HandleAction(ctx context.Context, c ConnInfo, req Request) (data any, err error)
}

// ActionHandlerFunc adapts a function to [ActionHandler].
type ActionHandlerFunc func(ctx context.Context, c ConnInfo, req Request) (any, error)

// HandleAction calls f.
func (f ActionHandlerFunc) HandleAction(ctx context.Context, c ConnInfo, req Request) (any, error) {
	return f(ctx, c, req)
}

// ErrUnknownAction is what an [ActionHandler] returns for an action it does
// not know; the client gets Mattermost's
// api.web_socket_router.bad_action.app_error.
var ErrUnknownAction = errors.New("ws: unknown action")

// StatusHook hears a user's presence on this node: online when their first
// authenticated socket opens, offline when their last open socket closes
// (a disconnected connection kept for resuming does not count as open).
// Whether the user is offline for the whole cluster is for the hook to
// decide (a socket on another node keeps them online).
//
// Contract: calls come from one goroutine, one at a time, in the order the
// transitions happened, so online and offline for a user never overtake
// each other. They may block and do I/O; that delays only later
// transitions, never sockets. ctx ends when the Hub closes. Transitions
// still waiting when the Hub closes are not delivered.
type StatusHook interface {
	UserOnline(ctx context.Context, userID string)
	UserOffline(ctx context.Context, userID string)
}

// Cluster is what the Hub needs from the other nodes of a cluster
// (node/cluster implements it).
//
// Contract: methods are called concurrently. Forward runs on the goroutine
// that called [Hub.Publish], after local delivery: it must not block on the
// network (queue and return) and may keep ev, which nobody modifies
// afterwards; the receiving nodes deliver it with [Hub.PublishLocal], so it
// is never forwarded twice. FetchQueue runs while a reconnecting socket
// waits, when its connection_id is unknown on this node: it asks the other
// nodes for that connection's queue (their [Hub.TakeQueue]); it may block
// (bounded by ctx) and returns ok false when no node has the connection.
type Cluster interface {
	Forward(ctx context.Context, ev Event)
	FetchQueue(ctx context.Context, userID, connectionID string) (q Queue, ok bool, err error)
}

var (
	_ Authenticator = AuthenticatorFunc(nil)
	_ ActionHandler = ActionHandlerFunc(nil)
)
