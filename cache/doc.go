// Package cache owns the front door's HTTP response cache: NGINX
// proxy_cache semantics (max_size, inactive, min_uses, revalidate,
// use_stale, lock, valid) under the rules of RFC 9111 for a shared cache,
// in memory. Responses live in github.com/patrickmn/go-cache; the byte
// budget and least-recently-used eviction are kept on top of it (go-cache
// counts no bytes). The fill lock is golang.org/x/sync/singleflight, and a
// key whose response cannot be stored is remembered for a while
// (hit-for-pass) so that its requests never wait on the lock. Every
// response gets a Cache-Status header field (RFC 9211).
//
// It is pure Go: it must not import Caddy, nor anything under node/. The
// Caddy glue (package caddymodule: the chorus_cache handler, the purge
// endpoint of the admin API, the metrics) hands [Cache.Serve] Caddy's next
// handler as the [Upstream].
//
// Entry types: [Config] with [DefaultConfig]; [Cache] made by [New], with
// [Cache.Serve], [Cache.Purge], [Cache.PurgePrefix], [Cache.Stats]; [Key]
// for the keys the purge API takes.
//
// Files: config.go (settings), cache.go (the cache, lookup, serving a
// stored response), policy.go (RFC 9111: what may be stored, freshness,
// age, conditions), key.go (keys, Vary), fill.go (forwarding, the lock,
// stale fallbacks), budget.go (the byte-bounded LRU over go-cache) and
// status.go (Cache-Status).
package cache
