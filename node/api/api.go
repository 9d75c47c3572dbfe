package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/seed331fb32b/chorus/node/app"
)

// contentTypeJSON is the Content-Type of every API response. It carries no
// charset parameter, as Mattermost sends it; @mattermost/client compares the
// header exactly.
const contentTypeJSON = "application/json"

// handler is the node's http.Handler: common headers, then the routes.
type handler struct {
	app       *app.App
	logger    *zap.Logger
	versionID string
	mux       *http.ServeMux
}

// New returns the node's HTTP handler serving the Mattermost v4 API from a.
// Every response carries X-Request-ID (a new 26-character id) and
// X-Version-Id "chorus.<version>"; API responses are JSON. A nil logger
// discards logs. The handler is safe for concurrent use.
func New(a *app.App, version string, logger *zap.Logger) http.Handler {
	if logger == nil {
		logger = zap.NewNop()
	}
	h := &handler{
		app:       a,
		logger:    logger,
		versionID: "chorus." + version,
		mux:       http.NewServeMux(),
	}
	h.routes()
	return h
}

// routes registers every route. Unknown paths under /api/v4/ get
// Mattermost's 404 AppError; other paths get a plain 404 (Mattermost
// would serve its web app there).
func (h *handler) routes() {
	h.mux.HandleFunc("GET /api/v4/system/ping", h.getSystemPing)
	h.mux.HandleFunc("POST /api/v4/config/reload", localOnly("reload_config", h.reloadConfig))
	h.mux.HandleFunc("POST /api/v4/database/recycle", localOnly("recycle_database_connections", h.recycleDatabase))
	h.mux.HandleFunc("/api/v4/", notFound)
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
