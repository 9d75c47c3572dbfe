// Command benchrun is the body of `make bench` (bench/run builds it and the
// other tools, then runs it): it starts two bench backends and, one at a
// time, each proxy under test on free loopback ports, drives them with wrk
// and with wsload, and prints one side-by-side table.
//
// Targets (rows):
//
//	direct        wrk straight to one backend: the limit of the machine
//	nginx-seed    Debian's nginx with the Mattermost HA guide's config
//	nginx-nolock  the same without proxy_cache_lock
//	caddy         stock Caddy reverse_proxy with the equivalent Caddyfile
//	chorus        the Chorus front door (the chorus directive)
//
// Measurements: requests per second, p50 and p99 latency (wrk --latency),
// and the proxy's CPU per request (utime+stime of the proxy and its
// children from /proc over the measured window, divided by the requests wrk
// completed) for the Mattermost ping and a 1 KB uncacheable API response;
// cache hits on a 2 KB and a 200 KB static file (NGINX's proxy_cache, the
// chorus_cache module when the binary has it, and direct); and, per proxy,
// the resident memory per open WebSocket and the echo p99 with thousands
// of WebSockets open (wsload).
//
// Every child runs in its own process group and is stopped by its id; the
// ids are also listed in -pgid-file so bench/run's EXIT trap can stop them
// if benchrun itself dies. Everything listens on 127.0.0.1 only.
package main
