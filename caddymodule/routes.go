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
//  1. the cluster declaration (http.handlers.chorus: nodes, gossip, health
//     checks, slow start, drain) and request_body with max_size, for every
//     request (413 beyond it);
//  2. the WebSocket route (balancer.WebSocketPath): the lean tunnel
//     (http.handlers.chorus_websocket) for HTTP/1.1 upgrades, and a
//     reverse_proxy behind it for anything else on that path;
//  3. the static route from [staticRoute], when the cache fills it;
//  4. the default route: the hot path (http.handlers.chorus_proxy) for
//     bodiless requests, the bulk of the API traffic, and a reverse_proxy
//     behind it for everything else.
//
// Each reverse_proxy takes the cluster's active nodes (upstream source
// chorus), picks by least connections with slow start (policy chorus) and
// reports every request to the cluster (transport chorus). The subroute's
// error routes answer in Mattermost's AppError JSON. The user's matcher, if
// any, guards the whole.
func buildRoutes(cfg balancer.Config, decl Cluster, static *staticCache, userMatcher caddy.ModuleMap, h httpcaddyfile.Helper) caddyhttp.Route {
	var warnings []caddyconfig.Warning
	handler := func(v caddy.Module, name string) json.RawMessage {
		return caddyconfig.JSONModuleObject(v, "handler", name, &warnings)
	}

	ws := proxyHandler(cfg)
	// Upgrades that the tunnel leaves to reverse_proxy (HTTP/2) would
	// otherwise be closed with 1001 by a Caddy reload; a node's clients
	// reconnect anyway when it is drained or dies.
	ws.StreamCloseDelay = caddy.Duration(30 * time.Minute)

	routes := caddyhttp.RouteList{
		{HandlersRaw: []json.RawMessage{
			handler(&decl, "chorus"),
			handler(requestbody.RequestBody{MaxSize: cfg.MaxBody}, "request_body"),
		}},
		{
			MatcherSetsRaw: []caddy.ModuleMap{{"path_regexp": h.JSON(caddyhttp.MatchPathRE{MatchRegexp: caddyhttp.MatchRegexp{Name: "chorus_websocket", Pattern: balancer.WebSocketPath}})}},
			HandlersRaw: []json.RawMessage{
				handler(&WebSocket{Cluster: cfg.Cluster}, "chorus_websocket"),
				handler(ws, "reverse_proxy"),
			},
			Terminal: true,
		},
	}
	if static != nil {
		routes = append(routes, staticRoute(cfg, static, h))
	}
	routes = append(routes, caddyhttp.Route{HandlersRaw: []json.RawMessage{
		handler(hotPath(cfg), "chorus_proxy"),
		handler(proxyHandler(cfg), "reverse_proxy"),
	}})

	sub := caddyhttp.Subroute{
		Routes: routes,
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

// staticRoute is the cached static route: requests for sc's paths go
// through a chorus_cache with sc's settings (NGINX proxy_cache semantics:
// min_uses 2, revalidate, use_stale timeout, lock with hit-for-pass) in
// front of a reverse_proxy from [proxyHandler]. It sits between the
// WebSocket route and the default route, so it never sees a WebSocket.
func staticRoute(cfg balancer.Config, sc *staticCache, h httpcaddyfile.Helper) caddyhttp.Route {
	return caddyhttp.Route{
		MatcherSetsRaw: []caddy.ModuleMap{{"path": h.JSON(caddyhttp.MatchPath(sc.paths))}},
		HandlersRaw: []json.RawMessage{
			staticCacheHandler(&sc.opts),
			caddyconfig.JSONModuleObject(proxyHandler(cfg), "handler", "reverse_proxy", nil),
		},
		Terminal: true,
	}
}

// proxyHandler is one reverse_proxy to the active nodes of cfg's cluster
// with the settings of the HA guide's NGINX location blocks.
func proxyHandler(cfg balancer.Config) *reverseproxy.Handler {
	keepAlive := true
	transport := Transport{
		HTTPTransport: &reverseproxy.HTTPTransport{
			DialTimeout:  caddy.Duration(cfg.DialTimeout),
			WriteTimeout: caddy.Duration(cfg.WriteTimeout),
			ReadTimeout:  caddy.Duration(cfg.ReadTimeout),
			KeepAlive: &reverseproxy.KeepAlive{
				Enabled:             &keepAlive,
				MaxIdleConnsPerHost: cfg.KeepAlive,
			},
		},
		Cluster: cfg.Cluster,
	}
	return &reverseproxy.Handler{
		TransportRaw:        caddyconfig.JSONModuleObject(transport, "protocol", "chorus", nil),
		DynamicUpstreamsRaw: caddyconfig.JSONModuleObject(Upstreams{Cluster: cfg.Cluster}, "source", "chorus", nil),
		LoadBalancing: &reverseproxy.LoadBalancing{
			// Least connections (an open WebSocket counts until it
			// closes) with slow start, over the active nodes only.
			SelectionPolicyRaw: caddyconfig.JSONModuleObject(Selection{Cluster: cfg.Cluster}, "policy", "chorus", nil),
			TryDuration:        caddy.Duration(cfg.TryDuration),
			TryInterval:        caddy.Duration(250 * time.Millisecond),
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
