package api_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed331fb32b/chorus/node/app"
	"github.com/seed331fb32b/chorus/node/config"
	"github.com/seed331fb32b/chorus/node/store"
	"github.com/seed331fb32b/chorus/node/store/storetest"
)

// The posts-per-second benchmark of issue 4: POST /api/v4/posts through
// the whole node (HTTP on loopback, API, app, store) on SQLite and on
// PostgreSQL, from benchClients concurrent clients, each post a separate
// request. The anchor, measured in the same run with the same clients, is
// GET /api/v4/system/ping: the round trip of a request that touches no
// database. Reported: posts/s, pings/s, and ping-per-post-time, how many
// ping round trips one post costs.

// benchClients is the number of concurrent clients.
const benchClients = 8

// benchNode is a node on driver behind a real HTTP server, with a user,
// its session token and a channel to post in.
type benchNode struct {
	n       *testNode
	url     string
	token   string
	channel string
	client  *http.Client
}

func newBenchNode(b testing.TB, driver string) *benchNode {
	b.Helper()
	cfg := config.DefaultConfig()
	cfg.SqlSettings = storetest.Settings(b, driver)
	cfg.TeamSettings.EnableOpenServer = true
	st, err := store.Open(context.Background(), cfg.SqlSettings, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	n := startNode(b, cfg, "", st)
	srv := httptest.NewServer(n.handler)
	b.Cleanup(srv.Close)
	acc := n.signup(b, "", "poster")
	res, body := n.do(b, http.MethodPost, "/api/v4/teams", acc.token, map[string]string{"name": "bench", "display_name": "Bench", "type": "O"})
	if res.StatusCode != http.StatusCreated {
		b.Fatalf("team: %d %s", res.StatusCode, body)
	}
	team := decodeAs[app.Team](b, body)
	res, body = n.do(b, http.MethodPost, "/api/v4/channels", acc.token,
		map[string]string{"team_id": team.ID, "name": "bench", "display_name": "Bench", "type": "O"})
	if res.StatusCode != http.StatusCreated {
		b.Fatalf("channel: %d %s", res.StatusCode, body)
	}
	return &benchNode{
		n: n, url: srv.URL, token: acc.token, channel: decodeAs[app.Channel](b, body).ID,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients * 2}},
	}
}

// request sends one request and fails unless it gets want.
func (bn *benchNode) request(b testing.TB, method, path string, body []byte, want int) {
	req, err := http.NewRequest(method, bn.url+path, bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+bn.token)
	res, err := bn.client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != want {
		b.Fatalf("%s %s = %d, want %d", method, path, res.StatusCode, want)
	}
}

// rate runs n requests from benchClients goroutines and returns requests
// per second.
func rate(b testing.TB, n int, one func()) float64 {
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	start := time.Now()
	for range benchClients {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				one()
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

func BenchmarkCreatePost(b *testing.B) {
	for _, driver := range []string{config.DriverSQLite, config.DriverPostgres} {
		b.Run(driver, func(b *testing.B) {
			bn := newBenchNode(b, driver)
			post := []byte(`{"channel_id":"` + bn.channel + `","message":"` + string(bytes.Repeat([]byte("hello world "), 10)) + `"}`)
			ping := func() { bn.request(b, http.MethodGet, "/api/v4/system/ping", nil, http.StatusOK) }
			create := func() { bn.request(b, http.MethodPost, "/api/v4/posts", post, http.StatusCreated) }
			rate(b, 200, ping) // warm up connections
			rate(b, 50, create)
			before := rate(b, 2000, ping)

			var posts, took float64
			for b.Loop() {
				start := time.Now()
				rate(b, 200, create)
				took += time.Since(start).Seconds()
				posts += 200
			}
			b.StopTimer()
			// The anchor before and after, averaged: the machine's load
			// drifts during a run.
			pings := (before + rate(b, 2000, ping)) / 2
			perSecond := posts / took
			b.ReportMetric(perSecond, "posts/s")
			b.ReportMetric(pings, "pings/s")
			b.ReportMetric(pings/perSecond, "ping-per-post")
			b.Logf("%s, %d clients: %.0f posts/s; anchor %.0f pings/s; one post costs %.1f ping round trips",
				driver, benchClients, perSecond, pings, pings/perSecond)
		})
	}
}

// TestBenchNodeRig keeps the benchmark's rig honest with a few requests:
// posts are created and pings answered through the real HTTP server.
func TestBenchNodeRig(t *testing.T) {
	bn := newBenchNode(t, config.DriverSQLite)
	post := []byte(`{"channel_id":"` + bn.channel + `","message":"m"}`)
	rate(t, 20, func() { bn.request(t, http.MethodPost, "/api/v4/posts", post, http.StatusCreated) })
	rate(t, 20, func() { bn.request(t, http.MethodGet, "/api/v4/system/ping", nil, http.StatusOK) })
	list := decodeAs[app.PostList](t, bn.n.getAs(t, bn.token, "/api/v4/channels/"+bn.channel+"/posts"))
	if len(list.Order) != 20 {
		t.Errorf("%d posts in the channel, want 20", len(list.Order))
	}
}
