package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/seed331fb32b/chorus/balancer"
)

func init() {
	caddy.RegisterModule(Admin{})
}

// Admin adds the front door's routes to Caddy's admin API (loopback only
// unless the operator opens it, with Caddy's own origin checks):
//
//	GET  /chorus/nodes    every cluster's nodes as JSON
//	POST /chorus/drain    {"node":"host:port"[,"cluster":"name"]}: drain a node
//	POST /chorus/undrain  the same body: put it back
//	GET  /chorus/status   an HTML status page (JSON with ?format=json or
//	                      Accept: application/json)
//
// The node may also be given as ?node=host:port (and ?cluster=name). The
// cluster may be left out when one cluster has the node.
//
// Module ID: admin.api.chorus.
type Admin struct{}

// CaddyModule returns the Caddy module information.
func (Admin) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.chorus",
		New: func() caddy.Module { return new(Admin) },
	}
}

// Routes returns the admin routes.
func (Admin) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{
		{Pattern: "GET /chorus/nodes", Handler: caddy.AdminHandlerFunc(serveNodes)},
		{Pattern: "POST /chorus/drain", Handler: caddy.AdminHandlerFunc(serveDrain(true))},
		{Pattern: "POST /chorus/undrain", Handler: caddy.AdminHandlerFunc(serveDrain(false))},
		{Pattern: "GET /chorus/status", Handler: caddy.AdminHandlerFunc(serveStatus)},
	}
}

// clusterStatus is one cluster in the admin API's answers.
type clusterStatus struct {
	Cluster string                `json:"cluster"`
	Nodes   []balancer.NodeStatus `json:"nodes"`
}

// snapshot returns every cluster's nodes, by cluster name.
func snapshot() []clusterStatus {
	var out []clusterStatus
	for _, c := range allClusters() {
		p := c.pool.Load()
		if p == nil {
			continue
		}
		out = append(out, clusterStatus{Cluster: c.name, Nodes: p.Nodes()})
	}
	slices.SortFunc(out, func(a, b clusterStatus) int { return strings.Compare(a.Cluster, b.Cluster) })
	return out
}

func serveNodes(w http.ResponseWriter, _ *http.Request) error {
	return writeJSON(w, http.StatusOK, snapshot())
}

// drainRequest is the body of POST /chorus/drain and /chorus/undrain.
type drainRequest struct {
	Node    string `json:"node"`
	Cluster string `json:"cluster,omitempty"`
}

func serveDrain(drain bool) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		req := drainRequest{Node: r.URL.Query().Get("node"), Cluster: r.URL.Query().Get("cluster")}
		if req.Node == "" {
			body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
			if err != nil {
				return apiError(http.StatusBadRequest, fmt.Errorf("reading the body: %w", err))
			}
			if err := json.Unmarshal(body, &req); err != nil {
				return apiError(http.StatusBadRequest, fmt.Errorf(`want {"node":"host:port"}: %w`, err))
			}
		}
		addr, err := balancer.ParseNode(req.Node)
		if err != nil {
			return apiError(http.StatusBadRequest, err)
		}
		p, err := findPool(req.Cluster, addr)
		if err != nil {
			return err
		}
		var st balancer.NodeStatus
		if drain {
			st, err = p.Drain(addr)
		} else {
			st, err = p.Undrain(addr)
		}
		if errors.Is(err, balancer.ErrUnknownNode) {
			return apiError(http.StatusNotFound, err)
		}
		if err != nil {
			return apiError(http.StatusInternalServerError, err)
		}
		return writeJSON(w, http.StatusOK, st)
	}
}

// findPool returns the pool of the named cluster, or the one pool having
// addr when name is empty.
func findPool(name, addr string) (*balancer.Pool, error) {
	if name != "" {
		c := lookupCluster(name)
		if c == nil || c.pool.Load() == nil {
			return nil, apiError(http.StatusNotFound, fmt.Errorf("cluster %q: %w", name, errUnknownCluster))
		}
		return c.pool.Load(), nil
	}
	var found []*balancer.Pool
	for _, c := range allClusters() {
		if p := c.pool.Load(); p != nil && p.Node(addr) != nil {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return nil, apiError(http.StatusNotFound, fmt.Errorf("node %s: %w", addr, balancer.ErrUnknownNode))
	case 1:
		return found[0], nil
	default:
		return nil, apiError(http.StatusBadRequest, fmt.Errorf("node %s is in %d clusters: name one with \"cluster\"", addr, len(found)))
	}
}

func serveStatus(w http.ResponseWriter, r *http.Request) error {
	snap := snapshot()
	if r.URL.Query().Get("format") == "json" || strings.Contains(r.Header.Get("Accept"), "application/json") {
		return writeJSON(w, http.StatusOK, snap)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	return statusPage.Execute(w, snap)
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func apiError(status int, err error) error {
	return caddy.APIError{HTTPStatus: status, Err: err, Message: err.Error()}
}

// statusPage lists each cluster's nodes; it refreshes itself every 2 s.
var statusPage = template.Must(template.New("status").Funcs(template.FuncMap{
	"stamp": func(s balancer.NodeStatus) string {
		if s.LastCheck.IsZero() {
			return "never"
		}
		return s.LastCheck.Format("15:04:05.000")
	},
	"pct": func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>Chorus front door</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin-bottom:2em}th,td{padding:.35em .8em;border-bottom:1px solid #ddd;text-align:left}
th{background:#f4f4f4}.active{color:#1a7f37}.unhealthy,.removed{color:#cf222e}.draining,.drained{color:#9a6700}.joining{color:#0969da}
td.num{text-align:right;font-variant-numeric:tabular-nums}
</style></head><body>
<h1>Chorus front door</h1>
{{range .}}<h2>Cluster {{.Cluster}}</h2>
<table><tr><th>node</th><th>state</th><th>healthy</th><th>in flight</th><th>WebSockets</th><th>slow start</th><th>last check</th><th>latency</th><th>last error</th><th>source</th></tr>
{{range .Nodes}}<tr><td>{{.Node}}</td><td class="{{.State}}">{{.State}}{{if .DrainBy}} ({{.DrainBy}}){{end}}</td><td>{{if .Healthy}}yes{{else}}no{{end}}</td>
<td class="num">{{.InFlight}}</td><td class="num">{{.WebSockets}}</td><td class="num">{{pct .Weight}}</td><td>{{stamp .}}</td><td class="num">{{printf "%.1f" .LastLatency}} ms</td><td>{{.LastError}}</td><td>{{range .Sources}}{{.}} {{end}}</td></tr>
{{end}}</table>
{{else}}<p>No cluster is configured.</p>{{end}}
<p>JSON: <a href="?format=json">/chorus/status?format=json</a> · drain: <code>curl -X POST -d '{"node":"host:port"}' localhost:2019/chorus/drain</code></p>
</body></html>
`))

// Interface guards.
var _ caddy.AdminRouter = Admin{}
