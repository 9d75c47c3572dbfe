// Package balancer owns the front door's knowledge of a cluster of app
// nodes: which nodes exist (a static list, or learnt from the nodes'
// gossip), their states (joining, active, unhealthy, draining, drained,
// removed), one active health checker per cluster, passive failure
// counting, least-connections selection with slow start, draining, and the
// WebSocket tunnel.
//
// It is pure Go: it must not import Caddy, nor anything under node/. The
// Caddy glue in package caddymodule hands Caddy's reverse_proxy the active
// nodes of a [Pool] and reports requests back to it; the app nodes know
// nothing of this package and meet it over HTTP and the gossip contract
// only.
//
// Entry types: [Config] with [DefaultConfig] and [ParseNode]; [Pool] (made
// by [NewPool]) with its [Node]s, [Pool.Select], [Pool.Drain] and
// [Pool.Nodes]; [Observer] for logs and metrics; [Discovery] (started by
// [StartDiscovery]) for gossip; [WebSocketProxy] for the lean tunnel;
// [H1Client], the same-goroutine HTTP/1.1 client of the front door's hot
// path.
//
// Files: config.go (settings), state.go (the state machine), pool.go,
// node.go, health.go (the checker), passive.go, selection.go (least
// connections, slow start), drain.go, discovery.go (memberlist),
// websocket.go (the upgrade handshake), tunnel.go (the two pumps), and
// h1client.go, h1request.go, h1response.go (the hot path's client).
package balancer
