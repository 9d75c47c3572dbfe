// Package api owns the node's HTTP surface: the subset of Mattermost's v4
// REST API that Chorus implements (users, login and sessions, teams,
// channels, posts, statuses, the admin endpoints and the ping), the
// mounting of the WebSocket hub (node/ws) on /api/v4/websocket with its
// wiring to the app ([NewHub]), and what every request shares:
// authentication (Authorization: Bearer|Token, or the MMAUTHTOKEN cookie
// with its CSRF check), the body size limit (413), the headers every
// response carries (X-Request-ID, X-Version-Id, Content-Type:
// application/json exactly), and Mattermost's AppError JSON for errors
// ([AppError]), 501 for Mattermost routes Chorus does not implement.
// [New] returns the node's http.Handler. cluster.go serves the cluster's
// status, the jobs list, the cache invalidation, the read-only config
// answer and the High Availability page (/admin/cluster, static/) from the
// [Cluster] and [Jobs] the node gives it ([WithCluster], [WithJobs]); it
// must not import node/cluster or node/jobs, which import node/store.
//
// api knows HTTP: routes, decoding requests (decode.go), cookies, choosing
// status codes, writing JSON. It asks node/app for every decision: app
// returns results and errors with a kind, and only api turns a kind into a
// status (apperror.go). It must not import node/store or database/sql
// (node's layering test enforces it). One file per aggregate, with the
// same stem as in node/app: users.go, teams.go, channels.go, posts.go,
// statuses.go.
package api
