package api

import (
	"net/http"

	"github.com/seed331fb32b/chorus/node/app"
)

// getConfig serves GET /api/v4/config to system admins: the node's
// config.json settings (with environment overrides) as Mattermost's names
// and shape, every database data source replaced by
// "********************************".
func (h *handler) getConfig(w http.ResponseWriter, r *http.Request, s *app.Session) {
	cfg, err := h.app.SanitizedConfig(s)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, cfg)
}

// reloadConfig serves POST /api/v4/config/reload to system admins
// (reload_config), as Mattermost's api4.reloadConfig does: the node reads
// its config.json again (MM_* environment variables still win). It
// answers {"status":"OK"}, or a 500 AppError
// api.config.reload_config.app_error naming what is wrong with the file,
// in which case the node keeps its current config.
func (h *handler) reloadConfig(w http.ResponseWriter, r *http.Request, s *app.Session) {
	if err := h.app.RequireSystemAdmin(s, "reload_config"); err != nil {
		h.writeError(w, r, err)
		return
	}
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

// recycleDatabase serves POST /api/v4/database/recycle to system admins
// (recycle_database_connections), as Mattermost's
// api4.recycleDatabaseConnection does: the node replaces its database
// connection pools with new ones from its current SqlSettings, while
// statements in flight finish on the old ones. After a config reload with
// a new DataSource this is the manual failover to a new master. It answers
// {"status":"OK"}, or a 500 AppError when the new pools cannot be opened
// (Mattermost's recycle cannot fail; Chorus checks the new master first and
// keeps the current pools), whose id api.database.recycle.app_error is
// Chorus's own.
func (h *handler) recycleDatabase(w http.ResponseWriter, r *http.Request, s *app.Session) {
	if err := h.app.RequireSystemAdmin(s, "recycle_database_connections"); err != nil {
		h.writeError(w, r, err)
		return
	}
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
