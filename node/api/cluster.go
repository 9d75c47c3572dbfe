package api

import (
	"context"
	_ "embed"
	"net/http"

	"github.com/seed331fb32b/chorus/node/app"
)

// ClusterNode is one live node in GET /api/v4/cluster/status. Its first six
// fields are Mattermost's model.ClusterInfo; the others are Chorus's
// (node/cluster's NodeInfo), which Mattermost clients ignore.
type ClusterNode struct {
	ID                string   `json:"id"`
	Version           string   `json:"version"`
	SchemaVersion     string   `json:"schema_version"`
	ConfigHash        string   `json:"config_hash"`
	IPAddress         string   `json:"ipaddress"`
	Hostname          string   `json:"hostname"`
	API               string   `json:"api"`
	State             string   `json:"state"`
	Leader            bool     `json:"leader"`
	Self              bool     `json:"self"`
	ClockOffsetMillis *float64 `json:"clock_offset_ms"`
	ClockSkew         bool     `json:"clock_skew"`
	WebSocketCount    *int     `json:"websocket_count"`
	Reachable         bool     `json:"reachable"`
}

// Job is one run of a scheduled job in GET /api/v4/jobs, Mattermost's
// model.Job JSON. Times are Unix milliseconds.
type Job struct {
	ID             string            `json:"id"`
	Type           string            `json:"type"`
	Priority       int64             `json:"priority"`
	CreateAt       int64             `json:"create_at"`
	StartAt        int64             `json:"start_at"`
	LastActivityAt int64             `json:"last_activity_at"`
	Status         string            `json:"status"`
	Progress       int64             `json:"progress"`
	Data           map[string]string `json:"data"`
}

// Cluster is what the API needs of the node's cluster: the status of its
// live nodes as this node sees them, ordered by id, and with includeDown
// also the nodes that should be there but are not members (their
// ClusterDiscovery row is recent: a node killed or cut off), with State
// [StateDown] and no id. It blocks for at most the cluster's request
// timeout. node/server.go adapts node/cluster.
type Cluster interface {
	Status(ctx context.Context, includeDown bool) []ClusterNode
}

// StateDown is the State of a node that has a recent ClusterDiscovery row
// but is not a live member of the gossip.
const StateDown = "down"

// Jobs is what the API needs of the node's job scheduler: one page of
// runs, newest first, filtered by type and status ("" matches any).
// node/server.go adapts node/jobs.
type Jobs interface {
	List(ctx context.Context, jobType, status string, page, perPage int) ([]Job, error)
}

// Option configures the handler [New] returns.
type Option func(*handler)

// WithCluster serves GET /api/v4/cluster/status from c. Without it the
// list is empty, as Mattermost answers with clustering off.
func WithCluster(c Cluster) Option { return func(h *handler) { h.cluster = c } }

// WithJobs serves GET /api/v4/jobs from j. Without it the list is empty.
func WithJobs(j Jobs) Option { return func(h *handler) { h.jobs = j } }

// getClusterStatus serves GET /api/v4/cluster/status to system admins
// (manage_system), Mattermost's api4.getClusterStatus. Chorus's
// include_down=true adds the nodes that are down (see [Cluster]), for the
// High Availability page.
func (h *handler) getClusterStatus(w http.ResponseWriter, r *http.Request, s *app.Session) {
	if err := h.app.RequireSystemAdmin(s, "manage_system"); err != nil {
		h.writeError(w, r, err)
		return
	}
	nodes := []ClusterNode{}
	if h.cluster != nil {
		if got := h.cluster.Status(r.Context(), r.URL.Query().Get("include_down") == "true"); got != nil {
			nodes = got
		}
	}
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate")
	writeJSON(w, r, http.StatusOK, nodes)
}

// getJobs serves GET /api/v4/jobs to system admins (manage_jobs),
// Mattermost's api4.getJobs: page (from 0), per_page (60 by default, 200
// at most), job_type and status filters.
func (h *handler) getJobs(w http.ResponseWriter, r *http.Request, s *app.Session) {
	if err := h.app.RequireSystemAdmin(s, "manage_jobs"); err != nil {
		h.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	page, perPage := queryInt(r, "page", 0), queryInt(r, "per_page", 60)
	jobs := []Job{}
	if h.jobs != nil {
		got, err := h.jobs.List(r.Context(), q.Get("job_type"), q.Get("status"), page, min(max(perPage, 1), 200))
		if err != nil {
			writeAppError(w, r, &AppError{ID: "app.job.get_all.app_error", Message: "Unable to get the jobs.",
				DetailedError: err.Error(), StatusCode: http.StatusInternalServerError})
			return
		}
		if got != nil {
			jobs = got
		}
	}
	writeJSON(w, r, http.StatusOK, jobs)
}

// invalidateCaches serves POST /api/v4/caches/invalidate to system admins,
// Mattermost's api4.invalidateCaches: every node's caches are emptied.
func (h *handler) invalidateCaches(w http.ResponseWriter, r *http.Request, s *app.Session) {
	if err := h.app.InvalidateAllCaches(r.Context(), s); err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate")
	writeJSON(w, r, http.StatusOK, statusOK)
}

// updateConfig answers PUT /api/v4/config and PUT /api/v4/config/patch:
// a node in a cluster with ClusterSettings.ReadOnlyConfig answers 403, as
// Mattermost does (its config is the same file on every node); otherwise
// Chorus does not write config.json through the API (501).
func (h *handler) updateConfig(w http.ResponseWriter, r *http.Request, s *app.Session) {
	if err := h.app.RequireSystemAdmin(s, "manage_system"); err != nil {
		h.writeError(w, r, err)
		return
	}
	if cs := h.app.Config().ClusterSettings; cs.Enable && cs.ReadOnlyConfig {
		writeAppError(w, r, &AppError{ID: "api.config.update_config.read_only_config.app_error",
			Message:    "The configuration is read-only in a cluster (ClusterSettings.ReadOnlyConfig): edit config.json on every node and reload it.",
			StatusCode: http.StatusForbidden})
		return
	}
	writeAppError(w, r, notImplementedError(r.Method+" "+r.URL.Path))
}

// clusterPage is the High Availability page (static/cluster.html).
//
//go:embed static/cluster.html
var clusterPage []byte

// getClusterPage serves the High Availability page at /admin/cluster: a
// self-contained HTML page that logs a system admin in (or uses the
// MMAUTHTOKEN cookie) and polls /api/v4/cluster/status every second.
func (h *handler) getClusterPage(w http.ResponseWriter, _ *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	hdr.Set("X-Frame-Options", "DENY")
	_, _ = w.Write(clusterPage)
}
