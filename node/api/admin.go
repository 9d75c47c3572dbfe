package api

import (
	"net"
	"net/http"
)

// reloadConfig serves POST /api/v4/config/reload as Mattermost's
// api4.reloadConfig does: the node reads its config.json again (MM_*
// environment variables still win). It answers {"status":"OK"}, or a 500
// AppError api.config.reload_config.app_error naming what is wrong with
// the file, in which case the node keeps its current config.
func (h *handler) reloadConfig(w http.ResponseWriter, r *http.Request) {
	if err := h.app.ReloadConfig(r.Context()); err != nil {
		writeAppError(w, r, &AppError{
			ID:            "api.config.reload_config.app_error",
			Message:       "Failed to reload the configuration.",
			DetailedError: err.Error(),
			StatusCode:    http.StatusInternalServerError,
		})
		return
	}
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate")
	writeJSON(w, r, http.StatusOK, map[string]string{"status": "OK"})
}

// recycleDatabase serves POST /api/v4/database/recycle as Mattermost's
// api4.recycleDatabaseConnection does: the node replaces its database
// connection pools with new ones from its current SqlSettings, while
// statements in flight finish on the old ones. After a config reload with
// a new DataSource this is the manual failover to a new master. It answers
// {"status":"OK"}, or a 500 AppError when the new pools cannot be opened
// (Mattermost's recycle cannot fail; Chorus checks the new master first and
// keeps the current pools), whose id api.database.recycle.app_error is
// Chorus's own.
func (h *handler) recycleDatabase(w http.ResponseWriter, r *http.Request) {
	if err := h.app.RecycleDatabase(r.Context()); err != nil {
		writeAppError(w, r, &AppError{
			ID:            "api.database.recycle.app_error",
			Message:       "Failed to recycle the database connections.",
			DetailedError: err.Error(),
			StatusCode:    http.StatusInternalServerError,
		})
		return
	}
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate")
	writeJSON(w, r, http.StatusOK, map[string]string{"status": "OK"})
}

// localOnly lets a request through only when it comes straight from the
// node's own host: a loopback remote address and none of the headers a
// proxy adds (the front door connects from loopback too, and sets
// X-Forwarded-For). Anything else gets Mattermost's 403 permission
// AppError naming permission.
//
// This stands in for authentication, which Chorus does not have yet: the
// API issue replaces it with Mattermost's system-admin permission checks
// (PermissionReloadConfig, PermissionRecycleDatabaseConnections), and then
// these endpoints are reachable through the front door like any other.
func localOnly(permission string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !fromLocalHost(r) {
			writeAppError(w, r, &AppError{
				ID:      "api.context.permissions.app_error",
				Message: "You do not have the appropriate permissions.",
				DetailedError: "permission=" + permission + "; until Chorus has user authentication, " +
					"only requests from the node's own host, not through a proxy, may call this",
				StatusCode: http.StatusForbidden,
			})
			return
		}
		next(w, r)
	}
}

// fromLocalHost reports whether r came from a loopback address with no
// proxy in between.
func fromLocalHost(r *http.Request) bool {
	for _, h := range []string{"X-Forwarded-For", "X-Real-Ip", "Forwarded"} {
		if r.Header.Get(h) != "" {
			return false
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
