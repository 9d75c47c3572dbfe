// Package api owns the node's HTTP surface: the Mattermost v4 REST routes
// (so far GET /api/v4/system/ping), the headers every response carries
// (X-Request-ID, X-Version-Id, Content-Type: application/json), and
// Mattermost's AppError JSON for errors ([AppError]). [New] returns the
// node's http.Handler.
//
// api knows HTTP: decoding requests, choosing status codes, writing JSON.
// It asks node/app for every decision and must not import node/store or
// database/sql (node's layering test enforces it); app returns results and
// errors, and only api turns them into statuses.
package api
