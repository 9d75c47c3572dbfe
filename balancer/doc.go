// Package balancer owns the front door's knowledge of a cluster of app nodes:
// which nodes exist, how they are health-checked, and (as the front-door
// issue fills it in) their states, selection, gossip discovery and stream
// tracking.
//
// It is pure Go: it must not import Caddy, nor anything under node/. The
// Caddy glue in package caddymodule turns a [Config] into Caddy's own
// reverse_proxy configuration; the app nodes know nothing of this package.
//
// Entry types: [Config] with [DefaultConfig], and [ParseNode].
package balancer
