package api_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/seed331fb32b/chorus/node/api"
	"github.com/seed331fb32b/chorus/node/app"
	"github.com/seed331fb32b/chorus/node/config"
)

// staticCluster answers the status it holds: the real cluster runs in the
// e2e tests (e2e/cluster_*_test.go), which need processes and gossip.
type staticCluster []api.ClusterNode

func (c staticCluster) Status(_ context.Context, includeDown bool) []api.ClusterNode {
	if includeDown {
		return c
	}
	var live []api.ClusterNode
	for _, n := range c {
		if n.State != api.StateDown {
			live = append(live, n)
		}
	}
	return live
}

// recordedJobs answers its jobs and records the page asked for.
type recordedJobs struct {
	jobs                    []api.Job
	typ, status             string
	page, perPage, requests int
}

func (j *recordedJobs) List(_ context.Context, typ, status string, page, perPage int) ([]api.Job, error) {
	j.typ, j.status, j.page, j.perPage = typ, status, page, perPage
	j.requests++
	return j.jobs, nil
}

// withOptions rebuilds n's handler with opts.
func (n *testNode) withOptions(opts ...api.Option) *testNode {
	n.handler = api.New(n.app, n.hub, "test", nil, opts...)
	return n
}

func TestClusterAndJobEndpointsNeedASystemAdmin(t *testing.T) {
	n, admin, user := adminNode(t)
	tests := []struct {
		name     string
		token    string
		wantCode int
	}{
		{"system admin", admin.token, http.StatusOK},
		{"plain user", user.token, http.StatusForbidden},
		{"no session", "", http.StatusUnauthorized},
	}
	for _, target := range []string{"/api/v4/cluster/status", "/api/v4/jobs"} {
		for _, tt := range tests {
			t.Run(target+" as "+tt.name, func(t *testing.T) {
				res, body := n.do(t, http.MethodGet, target, tt.token, nil)
				if res.StatusCode != tt.wantCode {
					t.Fatalf("status code = %d, want %d; body %s", res.StatusCode, tt.wantCode, body)
				}
			})
		}
	}
}

func TestClusterStatusIsEmptyOnANodeAlone(t *testing.T) {
	n, admin, _ := adminNode(t)
	for _, target := range []string{"/api/v4/cluster/status", "/api/v4/jobs"} {
		res, body := n.do(t, http.MethodGet, target, admin.token, nil)
		if res.StatusCode != http.StatusOK || string(body) != "[]" {
			t.Errorf("%s = %d %s, want 200 []", target, res.StatusCode, body)
		}
	}
}

func TestClusterStatusHasMattermostFieldsAndChorusExtras(t *testing.T) {
	n, admin, _ := adminNode(t)
	offset, sockets := 1.5, 3
	n.withOptions(api.WithCluster(staticCluster{{ID: "a", Version: "v1", SchemaVersion: "1.1", ConfigHash: "h",
		IPAddress: "127.0.0.1:8074", Hostname: "node-a", API: "127.0.0.1:8065", State: "serving", Leader: true,
		Self: true, ClockOffsetMillis: &offset, WebSocketCount: &sockets, Reachable: true}}))
	res, body := n.do(t, http.MethodGet, "/api/v4/cluster/status", admin.token, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d %s", res.StatusCode, body)
	}
	nodes := decodeAs[[]map[string]any](t, body)
	if len(nodes) != 1 {
		t.Fatalf("nodes = %s", body)
	}
	want := map[string]any{"id": "a", "version": "v1", "schema_version": "1.1", "config_hash": "h",
		"ipaddress": "127.0.0.1:8074", "hostname": "node-a", "api": "127.0.0.1:8065", "state": "serving",
		"leader": true, "self": true, "clock_offset_ms": 1.5, "clock_skew": false, "websocket_count": float64(3),
		"reachable": true}
	for k, v := range want {
		if nodes[0][k] != v {
			t.Errorf("%s = %v, want %v", k, nodes[0][k], v)
		}
	}
}

func TestClusterStatusListsDownNodesOnlyWhenAsked(t *testing.T) {
	n, admin, _ := adminNode(t)
	n.withOptions(api.WithCluster(staticCluster{{ID: "a", State: "serving", Reachable: true},
		{IPAddress: "127.0.0.1:8075", State: api.StateDown}}))
	for query, want := range map[string]int{"": 1, "?include_down=true": 2} {
		res, body := n.do(t, http.MethodGet, "/api/v4/cluster/status"+query, admin.token, nil)
		if got := len(decodeAs[[]map[string]any](t, body)); res.StatusCode != http.StatusOK || got != want {
			t.Errorf("status%s = %d with %d nodes, want %d", query, res.StatusCode, got, want)
		}
	}
}

func TestJobsListPassesPageAndFilters(t *testing.T) {
	n, admin, _ := adminNode(t)
	tests := []struct {
		query                 string
		wantPage, wantPerPage int
	}{
		{"", 0, 60},
		{"?page=2&per_page=10&job_type=data_retention&status=success", 2, 10},
		{"?per_page=5000", 0, 200},
		{"?page=-1&per_page=x", 0, 60},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			jobs := &recordedJobs{jobs: []api.Job{{ID: "j", Type: "data_retention", Status: "success", Data: map[string]string{}}}}
			n.withOptions(api.WithJobs(jobs))
			res, body := n.do(t, http.MethodGet, "/api/v4/jobs"+tt.query, admin.token, nil)
			if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"type":"data_retention"`) {
				t.Fatalf("jobs = %d %s", res.StatusCode, body)
			}
			if jobs.page != tt.wantPage || jobs.perPage != tt.wantPerPage {
				t.Errorf("page, per_page = %d, %d; want %d, %d", jobs.page, jobs.perPage, tt.wantPage, tt.wantPerPage)
			}
			if strings.Contains(tt.query, "job_type") && (jobs.typ != "data_retention" || jobs.status != "success") {
				t.Errorf("filters = %q, %q", jobs.typ, jobs.status)
			}
		})
	}
}

func TestConfigWritesAreForbiddenInAReadOnlyCluster(t *testing.T) {
	tests := []struct {
		name     string
		cluster  string
		wantCode int
	}{
		{"clustered, read-only config", `"ClusterSettings": {"Enable": true, "ClusterName": "c"}`, http.StatusForbidden},
		{"clustered, writable config", `"ClusterSettings": {"Enable": true, "ClusterName": "c", "ReadOnlyConfig": false}`, http.StatusNotImplemented},
		{"alone", `"ClusterSettings": {"Enable": false}`, http.StatusNotImplemented},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newTestNodeWith(t, `"ServiceSettings": {"GoroutineHealthThreshold": -1}, "TeamSettings": {"EnableOpenServer": true}, `+tt.cluster)
			admin := n.signup(t, "", "root")
			for _, target := range []string{"/api/v4/config", "/api/v4/config/patch"} {
				res, body := n.do(t, http.MethodPut, target, admin.token, map[string]any{})
				if res.StatusCode != tt.wantCode {
					t.Errorf("PUT %s = %d %s, want %d", target, res.StatusCode, body, tt.wantCode)
				}
			}
		})
	}
}

func TestClusterPageIsSelfContained(t *testing.T) {
	n := newTestNode(t, testService)
	res, body := n.get(t, "/admin/cluster")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("page = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	page := string(body)
	for _, want := range []string{"/api/v4/cluster/status", "/api/v4/users/login", "setTimeout(poll, 1000)"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`).FindString(page); external != "" {
		t.Errorf("page loads an external asset: %s", external)
	}
}

// recordingCluster records what the app sends to the other nodes and
// answers socket counts with sockets.
type recordingCluster struct {
	mu      sync.Mutex
	sent    []string // "event data"
	asked   int
	sockets int
}

func (c *recordingCluster) Send(_ context.Context, event string, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, event+" "+string(data))
	return nil
}

func (c *recordingCluster) RemoteSocketCount(context.Context, string) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked++
	return c.sockets, nil
}

func (c *recordingCluster) ConfigChanged(context.Context, *config.Config) error { return nil }

func (c *recordingCluster) has(want string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Contains(c.sent, want)
}

func TestAppTellsTheClusterWhatOtherNodesCache(t *testing.T) {
	n, admin, user := adminNode(t)
	rec := &recordingCluster{}
	n.app.SetCluster(rec)
	type idOnly struct {
		ID string `json:"id"`
	}
	var team, channel idOnly
	mustDecode := func(method, target string, body any, out *idOnly) {
		t.Helper()
		res, raw := n.do(t, method, target, admin.token, body)
		if res.StatusCode/100 != 2 {
			t.Fatalf("%s %s = %d %s", method, target, res.StatusCode, raw)
		}
		if out != nil {
			*out = decodeAs[idOnly](t, raw)
		}
	}
	mustDecode("POST", "/api/v4/teams", map[string]string{"name": "t1", "display_name": "T", "type": "O"}, &team)
	mustDecode("POST", "/api/v4/teams/"+team.ID+"/members", map[string]string{"team_id": team.ID, "user_id": user.user.ID}, nil)
	mustDecode("POST", "/api/v4/channels", map[string]string{"team_id": team.ID, "name": "c1", "display_name": "C", "type": "O"}, &channel)
	mustDecode("POST", "/api/v4/channels/"+channel.ID+"/members", map[string]string{"user_id": user.user.ID}, nil)
	for _, want := range []string{app.ClusterEventInvalidateTeamMembers + " " + team.ID,
		app.ClusterEventInvalidateChannelMember + " " + channel.ID} {
		if !rec.has(want) {
			t.Errorf("the cluster was not sent %q; sent %q", want, rec.sent)
		}
	}

	// An admin's cache invalidation reaches every node.
	if res, body := n.do(t, http.MethodPost, "/api/v4/caches/invalidate", admin.token, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("invalidate caches = %d %s", res.StatusCode, body)
	}
	if res, _ := n.do(t, http.MethodPost, "/api/v4/caches/invalidate", user.token, nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("invalidate caches as a plain user = %d, want 403", res.StatusCode)
	}
	if !rec.has(app.ClusterEventInvalidateAllCaches + " ") {
		t.Errorf("the cluster was not sent inv_all_caches; sent %q", rec.sent)
	}

	// A logout tells the others and waits for them (one request).
	if res, body := n.do(t, http.MethodPost, "/api/v4/users/logout", user.token, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("logout = %d %s", res.StatusCode, body)
	}
	if !rec.has(app.ClusterEventClearSessionUser+" "+user.user.ID) || rec.asked == 0 {
		t.Errorf("logout sent %q and asked %d times; want clear_session_user and a confirmation", rec.sent, rec.asked)
	}
}

func TestClearSessionUserFromAnotherNodeEndsTheSessionHere(t *testing.T) {
	n, admin, _ := adminNode(t)
	if res, _ := n.do(t, http.MethodGet, "/api/v4/users/me", admin.token, nil); res.StatusCode != http.StatusOK {
		t.Fatal("admin's session does not work") // and is now cached
	}
	// Another node deleted the session: the database no longer has it,
	// but this node's cache does until the cluster says so.
	s, err := n.app.SessionByToken(t.Context(), admin.token)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.store.Sessions().Remove(t.Context(), s.ID); err != nil {
		t.Fatal(err)
	}
	if res, _ := n.do(t, http.MethodGet, "/api/v4/users/me", admin.token, nil); res.StatusCode != http.StatusOK {
		t.Fatal("the cached session should still serve before the cluster event")
	}
	n.app.ClusterHandlers()[app.ClusterEventClearSessionUser](t.Context(), []byte(s.UserID))
	if res, _ := n.do(t, http.MethodGet, "/api/v4/users/me", admin.token, nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("after clear_session_user: %d, want 401", res.StatusCode)
	}
}
