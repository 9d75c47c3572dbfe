package caddymodule

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/headers"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/requestbody"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"

	"github.com/seed331fb32b/chorus/balancer"
)

// buildRoutes expands a cluster's config into one route holding a subroute:
//
//  1. request_body with max_size, for every request (413 beyond it);
//  2. the WebSocket route (balancer.WebSocketPath), a reverse_proxy whose
//     upgraded streams survive a config reload for a while;
//  3. the default route, a reverse_proxy for everything else.
//
// The subroute's error routes answer in Mattermost's AppError JSON. The
// user's matcher, if any, guards the whole.
func buildRoutes(cfg balancer.Config, userMatcher caddy.ModuleMap, h httpcaddyfile.Helper) caddyhttp.Route {
	var warnings []caddyconfig.Warning
	handler := func(v caddy.Module, name string) json.RawMessage {
		return caddyconfig.JSONModuleObject(v, "handler", name, &warnings)
	}

	ws := proxyHandler(cfg)
	// A Caddy reload would otherwise close every WebSocket with 1001; a
	// node's clients reconnect anyway when it is drained or dies.
	ws.StreamCloseDelay = caddy.Duration(30 * time.Minute)

	sub := caddyhttp.Subroute{
		Routes: caddyhttp.RouteList{
			{HandlersRaw: []json.RawMessage{handler(requestbody.RequestBody{MaxSize: cfg.MaxBody}, "request_body")}},
			{
				MatcherSetsRaw: []caddy.ModuleMap{{"path_regexp": h.JSON(caddyhttp.MatchPathRE{MatchRegexp: caddyhttp.MatchRegexp{Name: "chorus_websocket", Pattern: balancer.WebSocketPath}})}},
				HandlersRaw:    []json.RawMessage{handler(ws, "reverse_proxy")},
				Terminal:       true,
			},
			{HandlersRaw: []json.RawMessage{handler(proxyHandler(cfg), "reverse_proxy")}},
		},
		Errors: &caddyhttp.HTTPErrorConfig{Routes: caddyhttp.RouteList{
			{HandlersRaw: []json.RawMessage{handler(AppError{}, "chorus_error")}},
		}},
	}
	route := caddyhttp.Route{HandlersRaw: []json.RawMessage{handler(sub, "subroute")}}
	if userMatcher != nil {
		route.MatcherSetsRaw = []caddy.ModuleMap{userMatcher}
	}
	return route
}

// proxyHandler is one reverse_proxy to every node of cfg with the settings
// of the HA guide's NGINX location blocks.
func proxyHandler(cfg balancer.Config) *reverseproxy.Handler {
	var pool reverseproxy.UpstreamPool
	for _, n := range cfg.Nodes {
		pool = append(pool, &reverseproxy.Upstream{Dial: n})
	}
	keepAlive := true
	transport := reverseproxy.HTTPTransport{
		DialTimeout:  caddy.Duration(cfg.DialTimeout),
		WriteTimeout: caddy.Duration(cfg.WriteTimeout),
		ReadTimeout:  caddy.Duration(cfg.ReadTimeout),
		KeepAlive: &reverseproxy.KeepAlive{
			Enabled:             &keepAlive,
			MaxIdleConnsPerHost: cfg.KeepAlive,
		},
	}
	return &reverseproxy.Handler{
		TransportRaw: caddyconfig.JSONModuleObject(transport, "protocol", "http", nil),
		Upstreams:    pool,
		LoadBalancing: &reverseproxy.LoadBalancing{
			// Least connections: an open WebSocket counts as a request
			// until it closes, so sockets spread evenly over the nodes.
			SelectionPolicyRaw: caddyconfig.JSONModuleObject(struct{}{}, "policy", "least_conn", nil),
			TryDuration:        caddy.Duration(cfg.TryDuration),
			TryInterval:        caddy.Duration(250 * time.Millisecond),
		},
		HealthChecks: &reverseproxy.HealthChecks{
			Active: &reverseproxy.ActiveHealthChecks{
				URI:          cfg.ProbeURI(),
				Interval:     caddy.Duration(cfg.HealthInterval),
				Timeout:      caddy.Duration(cfg.HealthTimeout),
				Passes:       cfg.HealthPasses,
				Fails:        cfg.HealthFails,
				ExpectStatus: http.StatusOK,
			},
			// A node that refuses a connection is skipped for a while
			// before the active checker has seen it fail.
			Passive: &reverseproxy.PassiveHealthChecks{
				FailDuration: caddy.Duration(cfg.HealthInterval * time.Duration(cfg.HealthFails)),
				MaxFails:     1,
			},
		},
		// The HA guide's proxy_set_header lines. Caddy already passes Host
		// through and sets X-Forwarded-For and X-Forwarded-Proto itself.
		Headers: &headers.Handler{
			Request: &headers.HeaderOps{Set: http.Header{
				"X-Real-Ip":       {"{http.request.remote.host}"},
				"X-Frame-Options": {"SAMEORIGIN"},
			}},
			Response: &headers.RespHeaderOps{HeaderOps: &headers.HeaderOps{Set: http.Header{
				"X-Frame-Options": {"SAMEORIGIN"},
			}}},
		},
	}
}
