// Package ws owns the node's WebSocket API, Mattermost's
// `GET /api/v4/websocket`: the upgrade and its authentication (token in the
// Authorization header or the MMAUTHTOKEN cookie, or an
// authentication_challenge action within 5 s), the frames (events with a
// per-connection seq, replies with seq_reply), the actions ws answers itself
// (authentication_challenge, ping), the fan-out of events to the sockets of
// this node ([Hub.Publish]), the per-connection send queue (256) with its
// drop-and-close policy under pressure, and reliable reconnect: a
// disconnected connection is kept 5 minutes with the last 128 events it was
// sent, so a client that comes back with connection_id and sequence_number
// gets exactly what it missed, in order.
//
// Entry types: [Hub] (an http.Handler for the route, plus Publish), built by
// [New] from a [Config] ([DefaultConfig] holds Mattermost's constants) and
// [Deps]. What ws needs from the rest of the node it declares itself, each
// with its contract: [Authenticator] (token → user and session),
// [Membership] (channel and team members, for targeting), [ActionHandler]
// (user_typing, get_statuses, get_statuses_by_ids, …), [StatusHook] (a
// user's first socket on this node opened, last one closed) and [Cluster]
// (forwarding events to other nodes and fetching a connection's queue from
// them; set later with [Hub.SetCluster]). [Hub.PublishLocal] delivers an
// event that came from another node without forwarding it again;
// [Hub.TakeQueue] hands a connection's queue to another node.
//
// ws must not import node/api, node/app or node/store: node/app implements
// the interfaces above and node/api mounts the Hub on its route. It knows
// nothing of posts, channels or statuses beyond the event names it must
// treat specially (hello, typing and status_change).
package ws
