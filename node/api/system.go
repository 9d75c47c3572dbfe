package api

import (
	"net/http"

	"github.com/seed331fb32b/chorus/node/app"
)

// getSystemPing serves GET /api/v4/system/ping as Mattermost's
// api4.getSystemPing does: load balancers and the Mattermost operator use it
// as the health check.
//
// The body is a JSON object (keys sorted, as Mattermost's map marshals):
// status, the four mobile client version requirements (always "": Chorus has
// no ClientRequirements settings) and ActiveSearchBackend "database". With
// get_server_status=true it also checks the database through
// [app.App.Healthy] and adds database_status, plus response headers status
// and database_status with the same values. Mattermost also reports
// filestore_status there; Chorus has no file store yet, so it sends neither
// the key nor the header.
//
// An unhealthy node answers 500 with the same body, unless
// use_rest_semantics=true, which always gives 200 (Mattermost ≥ 9.6;
// @mattermost/client always sends it).
func (h *handler) getSystemPing(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	withServerStatus := q.Get("get_server_status") == "true"
	st := h.app.Healthy(r.Context(), withServerStatus)

	body := map[string]string{
		"status":               st.Status,
		"AndroidLatestVersion": "",
		"AndroidMinVersion":    "",
		"IosLatestVersion":     "",
		"IosMinVersion":        "",
		"ActiveSearchBackend":  "database",
	}
	if withServerStatus {
		body["database_status"] = st.DatabaseStatus
		w.Header().Set("status", st.Status)
		w.Header().Set("database_status", st.DatabaseStatus)
	}

	code := http.StatusOK
	if st.Status != app.StatusOK && q.Get("use_rest_semantics") != "true" {
		code = http.StatusInternalServerError
	}
	writeJSON(w, r, code, body)
}
