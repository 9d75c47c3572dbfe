// Package caddymodule is the Caddy glue of the Chorus front door: module
// registration, Caddyfile parsing, and (as later issues add them) admin API
// routes and metrics. It stays thin: what a cluster of app nodes is, how
// nodes are checked and chosen, lives in package balancer; response caching
// in package cache. Neither of those imports Caddy; this package is the only
// one in Chorus (besides cmd/chorus) that does.
//
// It registers:
//   - the Caddyfile directive "chorus", which expands into a subroute of
//     Caddy's own reverse_proxy handlers (see [parseChorus]);
//   - the handler module http.handlers.chorus_error ([AppError]), which
//     answers the front door's own errors in Mattermost's AppError JSON.
//
// It must not import anything under node/.
package caddymodule
