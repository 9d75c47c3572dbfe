package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
)

// Paths the backend answers.
const (
	pingPath      = "/api/v4/system/ping"
	apiPath       = "/api/v4/users/me"
	static2kPath  = "/static/app.2k.js"
	static200Path = "/static/app.200k.js"
	wsPath        = "/api/v4/websocket"
	statsPath     = "/_bench/stats"
)

// pingBody is what Mattermost's getSystemPing writes for a healthy node:
// model.ToJSON of its map, so the keys come out sorted.
var pingBody = []byte(`{"ActiveSearchBackend":"database","AndroidLatestVersion":"","AndroidMinVersion":"","IosLatestVersion":"","IosMinVersion":"","status":"OK"}`)

// Header values shared by every response. net/http only reads them, so one
// slice per value serves all requests without allocating.
var (
	hdrJSON       = []string{"application/json"}
	hdrJS         = []string{"application/javascript"}
	hdrNoStore    = []string{"no-store"}
	hdrExpires0   = []string{"0"} // Mattermost sets Expires: 0 on API GETs
	hdrStaticCC   = []string{"max-age=31556926, public"}
	hdrLastMod    = []string{"Sat, 01 Nov 2025 00:00:00 GMT"}
	hdrVersionID  = []string{"10.11.0.bench"}
	hdrLen1024    = []string{"1024"}
	hdrPingLength = []string{fmt.Sprint(len(pingBody))}
)

// staticFile is one cacheable static asset.
type staticFile struct {
	body   []byte
	etag   []string
	length []string
}

func newStaticFile(size int) *staticFile {
	// Deterministic JavaScript-looking content, so NGINX and Chorus cache
	// the same bytes on every run.
	line := []byte("function f(a){return a+1}/* chorus bench static asset */\n")
	body := make([]byte, 0, size)
	for len(body) < size {
		body = append(body, line...)
	}
	body = body[:size]
	sum := sha256.Sum256(body)
	return &staticFile{
		body:   body,
		etag:   []string{`"` + hex.EncodeToString(sum[:8]) + `"`},
		length: []string{fmt.Sprint(size)},
	}
}

// counters are the request counts /_bench/stats reports.
type counters struct {
	ping, api, static2k, static200k, websocket, other atomic.Int64
	wsOpen                                            atomic.Int64
}

// backend is the HTTP handler of the fake app node.
type backend struct {
	me          []byte
	static2k    *staticFile
	static200k  *staticFile
	count       counters
	mu          sync.Mutex            // guards sockets
	sockets     map[net.Conn]struct{} // open WebSockets, closed at shutdown
	socketsDone sync.WaitGroup        // one per echo goroutine
}

func newBackend() *backend {
	return &backend{
		me:         userJSON(1024),
		static2k:   newStaticFile(2 << 10),
		static200k: newStaticFile(200 << 10),
		sockets:    map[net.Conn]struct{}{},
	}
}

// userJSON returns a Mattermost-shaped user object of exactly size bytes,
// padded in its "position" field.
func userJSON(size int) []byte {
	u := map[string]any{
		"id": "9bs5f4z5wjbzxxbd7yhcgqdj3r", "create_at": 1700000000000, "update_at": 1700000000000,
		"delete_at": 0, "username": "bench.user", "auth_data": "", "auth_service": "",
		"email": "bench.user@example.com", "email_verified": true, "nickname": "", "first_name": "Bench",
		"last_name": "User", "roles": "system_user", "allow_marketing": false,
		"notify_props": map[string]string{"channel": "true", "comments": "never", "desktop": "mention",
			"desktop_sound": "true", "email": "true", "first_name": "false", "mention_keys": "",
			"push": "mention", "push_status": "away"},
		"last_password_update": 1700000000000, "locale": "en", "mfa_active": false,
		"timezone":              map[string]string{"automaticTimezone": "", "manualTimezone": "", "useAutomaticTimezone": "true"},
		"disable_welcome_email": false, "position": "",
	}
	b, _ := json.Marshal(u)
	if pad := size - len(b); pad > 0 {
		u["position"] = strings.Repeat("x", pad)
		b, _ = json.Marshal(u)
	}
	return b
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case pingPath:
		b.count.ping.Add(1)
		b.writeAPI(w, hdrPingLength, pingBody)
	case apiPath:
		b.count.api.Add(1)
		b.writeAPI(w, hdrLen1024, b.me)
	case static2kPath:
		b.count.static2k.Add(1)
		writeStatic(w, r, b.static2k)
	case static200Path:
		b.count.static200k.Add(1)
		writeStatic(w, r, b.static200k)
	case wsPath:
		b.count.websocket.Add(1)
		b.serveWebSocket(w, r)
	case statsPath:
		b.writeStats(w)
	default:
		b.count.other.Add(1)
		w.Header()["Content-Type"] = hdrJSON
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"id":"api.context.404.app_error","message":"Sorry, we could not find the page.","status_code":404}`))
	}
}

// writeAPI answers an uncacheable API call the way Mattermost does.
func (b *backend) writeAPI(w http.ResponseWriter, length []string, body []byte) {
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Content-Length"] = length
	h["Cache-Control"] = hdrNoStore
	h["Expires"] = hdrExpires0
	h["X-Version-Id"] = hdrVersionID
	_, _ = w.Write(body)
}

// writeStatic answers a static asset, or 304 when the client (a cache
// revalidating) already holds it.
func writeStatic(w http.ResponseWriter, r *http.Request, f *staticFile) {
	h := w.Header()
	h["Cache-Control"] = hdrStaticCC
	h["Etag"] = f.etag
	h["Last-Modified"] = hdrLastMod
	if inm := r.Header.Get("If-None-Match"); inm != "" && inm == f.etag[0] {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Type"] = hdrJS
	h["Content-Length"] = f.length
	_, _ = w.Write(f.body)
}

// stats is the JSON of /_bench/stats.
type stats struct {
	Requests map[string]int64 `json:"requests"`
	WSOpen   int64            `json:"ws_open"`
}

func (b *backend) writeStats(w http.ResponseWriter) {
	c := &b.count
	s := stats{
		Requests: map[string]int64{
			"ping": c.ping.Load(), "api": c.api.Load(), "static_2k": c.static2k.Load(),
			"static_200k": c.static200k.Load(), "websocket": c.websocket.Load(), "other": c.other.Load(),
		},
		WSOpen: c.wsOpen.Load(),
	}
	w.Header()["Content-Type"] = hdrJSON
	w.Header()["Cache-Control"] = hdrNoStore
	_ = json.NewEncoder(w).Encode(s)
}
