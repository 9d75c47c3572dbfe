package caddymodule

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// BenchmarkProxy sends GETs of a small JSON response through this
// process's Caddy, configured as stock reverse_proxy (static upstreams,
// least_conn, Caddy's own active health checks, the same headers and
// keep-alive pool) and as the chorus directive, against the same two
// backends in one run. The chorus run reports its time per request as a
// ratio to stock's (x-stock-time, 1.0 = same cost): the Chorus modules
// (upstream source, selection, transport) should cost nothing measurable.
func BenchmarkProxy(b *testing.B) {
	body := strings.Repeat("x", 1000)
	var backends []string
	for range 2 {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, body)
		}))
		b.Cleanup(srv.Close)
		backends = append(backends, strings.TrimPrefix(srv.URL, "http://"))
	}
	nodes := strings.Join(backends, " ")
	configs := []struct{ name, site string }{
		{"stock", fmt.Sprintf(`reverse_proxy %s {
		lb_policy least_conn
		lb_try_duration 5s
		health_uri /api/v4/system/ping
		health_interval 2s
		header_up X-Real-IP {remote_host}
		header_up X-Frame-Options SAMEORIGIN
		header_down X-Frame-Options SAMEORIGIN
		transport http {
			keepalive_idle_conns_per_host 256
		}
	}`, nodes)},
		{"chorus", fmt.Sprintf("chorus %s {\n\t\tcluster bench\n\t\thealth_interval 2s\n\t}", nodes)},
	}
	var stockNs float64 // the anchor: stock Caddy's ns/op in this run
	for _, c := range configs {
		b.Run(c.name, func(b *testing.B) {
			front := freeAddr(b)
			src := fmt.Sprintf("{\n\tadmin off\n\tpersist_config off\n\tlog {\n\t\tlevel ERROR\n\t}\n}\nhttp://%s {\n\t%s\n}\n", front, c.site)
			cfg, err := adapt(b, "Caddyfile", src)
			if err != nil {
				b.Fatal(err)
			}
			if err := caddy.Load(cfg, true); err != nil {
				b.Fatal(err)
			}
			defer caddy.Stop()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			url := "http://" + front + "/api/v4/users/me"
			waitUntil(b, "the proxy to answer", func() bool {
				resp, err := client.Get(url)
				if err != nil {
					return false
				}
				resp.Body.Close()
				return resp.StatusCode == 200
			})
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Get(url)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if c.name == "stock" {
				stockNs = ns
			} else if stockNs > 0 {
				b.ReportMetric(ns/stockNs, "x-stock-time")
			}
		})
	}
}
