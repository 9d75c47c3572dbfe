// Package cache will own the front door's HTTP response cache: NGINX
// proxy_cache semantics (min_uses, revalidate, use_stale, lock) under the
// rules of RFC 9111 for a shared cache, in memory on go-cache with a byte
// budget. The static-cache issue fills it; the chorus directive's static
// route is where it plugs in.
//
// It is pure Go: it must not import Caddy, nor anything under node/.
package cache
