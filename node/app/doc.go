// Package app owns the node's rules: what "healthy" means and how the
// database is checked ([App.Healthy], [App.CheckDatabase]), and the node's
// identity ([App.NodeID], [NewID]). Handlers in node/api call it; it calls
// the store through the small interfaces it declares ([SystemStore]).
//
// app knows neither HTTP nor SQL: it must not import net/http,
// database/sql, node/api or node/store (node's layering test enforces it).
// HTTP status codes are chosen in node/api, SQL is written in node/store.
package app
