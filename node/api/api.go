package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/seed331fb32b/chorus/node/app"
	"github.com/seed331fb32b/chorus/node/ws"
)

// contentTypeJSON is the Content-Type of every API response. It carries no
// charset parameter, as Mattermost sends it; @mattermost/client compares the
// header exactly.
const contentTypeJSON = "application/json"

// handler is the node's http.Handler: common headers, then the routes.
type handler struct {
	app       *app.App
	hub       *ws.Hub
	logger    *zap.Logger
	versionID string
	mux       *http.ServeMux
	cluster   Cluster // nil: a node alone
	jobs      Jobs    // nil: no scheduler
}

// VersionID returns the X-Version-Id of a node built from version,
// "chorus.<version>"; the WebSocket hello's server_version is the same.
func VersionID(version string) string { return "chorus." + version }

// New returns the node's HTTP handler serving the Mattermost v4 API from a,
// and its WebSocket API from hub (made by [NewHub]; nil leaves
// /api/v4/websocket unrouted). Every response carries X-Request-ID (a new
// 26-character id) and X-Version-Id ([VersionID]); API responses are JSON.
// A nil logger discards logs. opts add the cluster's status and the jobs
// ([WithCluster], [WithJobs]). The handler is safe for concurrent use.
func New(a *app.App, hub *ws.Hub, version string, logger *zap.Logger, opts ...Option) http.Handler {
	if logger == nil {
		logger = zap.NewNop()
	}
	h := &handler{
		app:       a,
		hub:       hub,
		logger:    logger,
		versionID: VersionID(version),
		mux:       http.NewServeMux(),
	}
	for _, o := range opts {
		o(h)
	}
	h.routes()
	return h
}

// routes registers every route. A path under /api/v4/ with no route gets
// 501 when it is a Mattermost route Chorus does not implement
// (notimplemented.go), else Mattermost's 404 AppError; other paths get a
// plain 404 (Mattermost would serve its web app there).
func (h *handler) routes() {
	m := h.mux
	m.HandleFunc("GET /api/v4/system/ping", h.getSystemPing)

	m.HandleFunc("POST /api/v4/users", h.withOptionalSession(h.createUser))
	m.HandleFunc("POST /api/v4/users/login", h.withOptionalSession(h.login))
	m.HandleFunc("POST /api/v4/users/logout", h.withOptionalSession(h.logout))
	m.HandleFunc("POST /api/v4/users/ids", h.withSession(h.getUsersByIDs))
	m.HandleFunc("GET /api/v4/users/{user_id}", h.withSession(h.getUser))
	m.HandleFunc("PUT /api/v4/users/{user_id}/patch", h.withSession(h.patchUser))
	m.HandleFunc("GET /api/v4/users/{user_id}/teams", h.withSession(h.getTeamsForUser))
	m.HandleFunc("GET /api/v4/users/{user_id}/teams/{team_id}/channels", h.withSession(h.getChannelsForTeamForUser))

	m.HandleFunc("POST /api/v4/teams", h.withSession(h.createTeam))
	m.HandleFunc("GET /api/v4/teams/{team_id}", h.withSession(h.getTeam))
	m.HandleFunc("POST /api/v4/teams/{team_id}/members", h.withSession(h.addTeamMember))

	m.HandleFunc("POST /api/v4/channels", h.withSession(h.createChannel))
	m.HandleFunc("GET /api/v4/channels/{channel_id}", h.withSession(h.getChannel))
	m.HandleFunc("POST /api/v4/channels/{channel_id}/members", h.withSession(h.addChannelMember))
	m.HandleFunc("GET /api/v4/channels/{channel_id}/posts", h.withSession(h.getPostsForChannel))

	m.HandleFunc("POST /api/v4/posts", h.withSession(h.createPost))
	m.HandleFunc("GET /api/v4/posts/{post_id}", h.withSession(h.getPost))

	m.HandleFunc("GET /api/v4/users/{user_id}/status", h.withSession(h.getUserStatus))
	m.HandleFunc("PUT /api/v4/users/{user_id}/status", h.withSession(h.updateUserStatus))
	m.HandleFunc("POST /api/v4/users/status/ids", h.withSession(h.getUserStatusesByIDs))

	m.HandleFunc("GET /api/v4/config", h.withSession(h.getConfig))
	m.HandleFunc("POST /api/v4/config/reload", h.withSession(h.reloadConfig))
	m.HandleFunc("PUT /api/v4/config", h.withSession(h.updateConfig))
	m.HandleFunc("PUT /api/v4/config/patch", h.withSession(h.updateConfig))
	m.HandleFunc("POST /api/v4/database/recycle", h.withSession(h.recycleDatabase))

	m.HandleFunc("POST /api/v4/caches/invalidate", h.withSession(h.invalidateCaches))
	m.HandleFunc("GET /api/v4/cluster/status", h.withSession(h.getClusterStatus))
	m.HandleFunc("GET /api/v4/jobs", h.withSession(h.getJobs))
	m.HandleFunc("GET /admin/cluster", h.getClusterPage)

	if h.hub != nil {
		// Mattermost's route allows a trailing slash. The hub
		// authenticates the socket itself (header, cookie or challenge)
		// and needs no CSRF token: browsers cannot forge an upgrade's
		// Origin, which the hub checks.
		m.Handle("GET /api/v4/websocket", h.hub)
		m.Handle("GET /api/v4/websocket/", h.hub)
	}
	m.HandleFunc("/api/v4/", notFound)
}

// ServeHTTP sets the headers Mattermost's web.Handler sets on every API
// response, then routes the request.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rid := app.NewID()
	hdr := w.Header()
	hdr.Set("X-Request-ID", rid)
	hdr.Set("X-Version-Id", h.versionID)
	// Mattermost's fixed security headers ("feel free to override in proxy
	// or ingress"), including its empty Permissions-Policy.
	hdr.Set("Permissions-Policy", "")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	if strings.HasPrefix(r.URL.Path, "/api/") {
		hdr.Set("Content-Type", contentTypeJSON)
		if r.Method == http.MethodGet {
			// Mattermost marks every API GET as already expired, so no
			// shared cache serves it without revalidating (RFC 9111 §5.3).
			hdr.Set("Expires", "0")
		}
	}
	// Mattermost caps every API body at MaximumPayloadSizeBytes plus
	// bytes.MinRead (web/handlers.go); reading past it fails, and the
	// decoders answer 413.
	maxBody := int64(h.app.Config().ServiceSettings.MaximumPayloadSizeBytes)
	if maxBody <= 0 {
		maxBody = 300000
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody+512)
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	h.mux.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, rid)))
	h.logger.Debug("Received HTTP request",
		zap.String("method", r.Method), zap.String("url", r.URL.Path),
		zap.String("request_id", rid), zap.Int("status_code", sw.status))
}

// requestIDKey is the context key of the request's X-Request-ID.
type requestIDKey struct{}

// requestID returns the X-Request-ID ServeHTTP gave the request, or "".
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// writeJSON writes v as the JSON response with status code.
func writeJSON(w http.ResponseWriter, r *http.Request, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeAppError(w, r, &AppError{
			ID:            "api.marshal_error",
			Message:       "Unable to encode the response.",
			DetailedError: err.Error(),
			StatusCode:    http.StatusInternalServerError,
		})
		return
	}
	w.Header().Set("Content-Type", contentTypeJSON)
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// statusWriter remembers the status code for the request log. Unwrap lets
// http.ResponseController reach the connection (flush, hijack).
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var (
	_ http.Handler        = (*handler)(nil)
	_ http.ResponseWriter = (*statusWriter)(nil)
)
