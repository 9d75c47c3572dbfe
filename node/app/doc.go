// Package app owns the node's rules: what "healthy" means and how the
// database is checked ([App.Healthy], [App.CheckDatabase]), the node's
// current configuration and its reload ([App.Config], [App.ReloadConfig]),
// the recycling of the database connections ([App.RecycleDatabase]), and
// the node's identity ([App.NodeID], [NewID]). Handlers in node/api call
// it; it calls the store through the small interfaces it declares
// ([SystemStore], [Database]), given to [New] in [Deps].
//
// app knows neither HTTP nor SQL: it must not import net/http,
// database/sql, node/api or node/store (node's layering test enforces it).
// HTTP status codes are chosen in node/api, SQL is written in node/store.
package app
