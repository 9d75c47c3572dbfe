// Package api owns the node's HTTP surface: the Mattermost v4 REST routes
// (so far GET /api/v4/system/ping, POST /api/v4/config/reload and
// POST /api/v4/database/recycle, the last two open to the node's own host
// only until authentication exists), the headers every response carries
// (X-Request-ID, X-Version-Id, Content-Type: application/json), and
// Mattermost's AppError JSON for errors ([AppError]). [New] returns the
// node's http.Handler.
//
// api knows HTTP: decoding requests, choosing status codes, writing JSON.
// It asks node/app for every decision and must not import node/store or
// database/sql (node's layering test enforces it); app returns results and
// errors, and only api turns them into statuses.
package api
