// Command backend is the benchmark's stand-in for a Mattermost app node:
// a small net/http server that answers the few requests the front-door
// benchmark sends, as Mattermost would shape them, with no database behind:
//
//	GET /api/v4/system/ping     Mattermost's ping JSON (no-store)
//	GET /api/v4/users/me        a 1,024-byte user JSON (no-store), the
//	                            typical uncacheable authenticated API call
//	GET /static/app.2k.js       2,048 bytes  } Cache-Control max-age, ETag,
//	GET /static/app.200k.js     204,800 bytes} Last-Modified; 304 on a match
//	GET /api/v4/websocket       WebSocket echo (every data frame sent back)
//	GET /_bench/stats           request counts per kind and open WebSockets
//
// The counts let the harness check, for instance, that a cache row really
// measured hits (the backend saw no static request in the window).
//
// Usage: backend [-addr 127.0.0.1:0]. It prints "listening on ADDR" as its
// first line of standard output once it accepts connections, and runs until
// it receives SIGINT or SIGTERM.
package main
