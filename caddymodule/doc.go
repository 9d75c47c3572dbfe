// Package caddymodule is the Caddy glue of the Chorus front door: module
// registration, Caddyfile parsing, admin API routes, metrics and logs. It
// stays thin: what a cluster of app nodes is, how nodes are checked,
// chosen and drained, and the WebSocket tunnel live in package balancer;
// response caching in package cache. Neither of those imports Caddy; this
// package is the only one in Chorus (besides cmd/chorus) that does.
//
// It registers:
//   - the Caddyfile directive "chorus", which expands into a subroute of
//     Caddy's own reverse_proxy handlers around the modules below (see
//     [parseChorus]);
//   - http.handlers.chorus ([Cluster]): declares a cluster (nodes, gossip,
//     health checks, slow start, drain) and owns its one pool and checker;
//   - http.reverse_proxy.upstreams.chorus ([Upstreams]): the active nodes;
//   - http.reverse_proxy.selection_policies.chorus ([Selection]): least
//     connections with slow start;
//   - http.reverse_proxy.transport.chorus ([Transport]): Caddy's HTTP
//     transport reporting requests, failures and upgraded streams;
//   - http.handlers.chorus_websocket ([WebSocket]): the lean tunnel;
//   - http.handlers.chorus_proxy ([Proxy]): the hot path for bodiless
//     requests, with reverse_proxy behind it for everything else;
//   - http.handlers.chorus_error ([AppError]): the front door's own
//     errors in Mattermost's AppError JSON;
//   - admin.api.chorus ([Admin]): /chorus/nodes, /chorus/drain,
//     /chorus/undrain and the /chorus/status page;
//   - http.handlers.chorus_cache ([Cache]) and its directive "chorus_cache":
//     the response cache of package cache in any route; the chorus
//     directive puts one in front of its static route (/static/*);
//   - admin.api.chorus_cache: POST /chorus/cache/purge.
//
// Its only package-level state is what must outlive a Caddy reload: the
// cluster registry and the cache registry (each a caddy.UsagePool) and the
// metric collectors.
//
// It must not import anything under node/.
package caddymodule
