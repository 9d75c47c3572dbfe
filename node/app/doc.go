// Package app owns the node's rules: who may sign up, log in and see or do
// what (users.go, sessions.go, teams.go, channels.go, posts.go,
// statuses.go, with Mattermost's models and JSON names); the session cache
// that spares requests a database read and the membership snapshots the
// WebSocket hub targets events with (members.go); the events the app
// publishes (events.go, through the [Realtime] the node sets); what
// "healthy" means and how the database is checked ([App.Healthy],
// [App.CheckDatabase]); the node's current configuration and its reload
// ([App.Config], [App.ReloadConfig]); the recycling of the database
// connections ([App.RecycleDatabase]); and the node's identity
// ([App.NodeID], [NewID]); in a cluster (cluster.go), the events other
// nodes must hear (session, user, membership and status changes) and
// their handlers ([App.ClusterHandlers]), through the [Cluster] the node
// sets. Handlers in node/api call it; it calls the
// store through the small interfaces it declares ([SystemStore],
// [Database], and [Stores] in stores.go), given to [New] in [Deps];
// node/bind adapts node/store to them.
//
// Errors are [*Error]: a Mattermost error id and a [Kind] (invalid,
// unauthorized, forbidden, not found, conflict, not implemented,
// internal); node/api turns kinds into HTTP statuses.
//
// app knows neither HTTP nor SQL: it must not import net/http,
// database/sql, node/api, node/store or node/ws (node's layering test
// enforces it). HTTP status codes are chosen in node/api, SQL is written in
// node/store.
package app
