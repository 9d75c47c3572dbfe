package caddymodule

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/dustin/go-humanize"

	"github.com/seed331fb32b/chorus/balancer"
)

func init() {
	httpcaddyfile.RegisterDirective("chorus", parseChorus)
	// Like php_fastcgi, chorus ends the chain with reverse_proxy handlers,
	// so it sorts with them.
	httpcaddyfile.RegisterDirectiveOrder("chorus", httpcaddyfile.After, "reverse_proxy")
}

// parseChorus sets up the chorus directive, the front door of a cluster of
// app nodes, from Caddyfile tokens. Syntax:
//
//	chorus [<matcher>] [<nodes...>] {
//		cluster         <name>          # default chorus; the gossip label
//		nodes           <host:port...>  # static nodes (may repeat)
//		gossip          <join host:port...> {
//			key       <base64 key>    # e.g. {env.CHORUS_GOSSIP_KEY}; none: no encryption
//			bind      <host:port>     # default 0.0.0.0:7946; port 0: any free port
//			advertise <host:port>     # what the nodes dial, if not bind
//			cluster   <name>          # the same as cluster above
//		}
//		health_uri      <uri>        # default /api/v4/system/ping
//		health_interval <duration>   # default 2s
//		health_timeout  <duration>   # default 2s
//		health_passes   <n>          # default 2
//		health_fails    <n>          # default 2
//		server_status                # probe with get_server_status=true
//		passive_fails   <n>          # default 1: failed requests that take a node out
//		slow_start      <duration>   # default 30s; 0 turns it off
//		drain_grace     <duration>   # default 30s
//		drain_spread    <duration>   # default 30s; 0 closes at once
//		cache [<paths...>] {         # default /static/*; "cache off": none
//			<chorus_cache options>   # min_uses, max_size, lock, … (see chorus_cache)
//		}
//		max_body        <size>       # default 100MB
//		try_duration    <duration>   # default 5s
//	}
//
// Nodes come from the static list, the gossip, or both; at least one of
// them is required. A node learnt from the gossip joins, drains (its state
// draining) and leaves with no reload. Two chorus directives may share a
// cluster name (one pool, one health checker) only with the same settings.
//
// It expands into a subroute: the cluster declaration and the body limit,
// the WebSocket route, (with the cache) the static route, and the default
// route (see [buildRoutes]). Every bad value is reported with the
// Caddyfile's name and line.
func parseChorus(h httpcaddyfile.Helper) ([]httpcaddyfile.ConfigValue, error) {
	h.Next() // directive name
	userMatcher, err := h.ExtractMatcherSet()
	if err != nil {
		return nil, err
	}
	h.Next() // ExtractMatcherSet rewound to before the directive's name
	file, line := h.File(), h.Line()
	cfg, gossip, static, err := unmarshalConfig(h.Dispenser)
	if err != nil {
		return nil, err
	}
	decl := clusterDecl(cfg, gossip)
	if err := checkClusterName(h, decl, file, line); err != nil {
		return nil, err
	}
	return []httpcaddyfile.ConfigValue{{Class: "route", Value: buildRoutes(cfg, decl, static, userMatcher, h)}}, nil
}

// checkClusterName refuses a cluster name that another chorus directive
// of the same Caddyfile declares with other settings: they would share
// one pool and fight over its configuration.
func checkClusterName(h httpcaddyfile.Helper, decl Cluster, file string, line int) error {
	seen, _ := h.State["chorus_clusters"].(map[string]string)
	if seen == nil {
		seen = map[string]string{}
		h.State["chorus_clusters"] = seen
	}
	raw, _ := json.Marshal(decl)
	key := decl.Name
	where := fmt.Sprintf("%s:%d", file, line)
	if prev, ok := seen[key]; ok {
		prevWhere, prevRaw, _ := strings.Cut(prev, "\n")
		if prevRaw != string(raw) {
			return fmt.Errorf("%s: cluster %q is already declared with other settings at %s; give one of them its own name with: cluster <name>", where, key, prevWhere)
		}
		return nil
	}
	seen[key] = where + "\n" + string(raw)
	return nil
}

// unmarshalConfig reads the directive's arguments and block into a
// balancer.Config on top of balancer.DefaultConfig, the gossip options as
// written (the key unresolved), and the static cache (nil: off). d is
// positioned on the directive's name, after any matcher token.
func unmarshalConfig(d *caddyfile.Dispenser) (balancer.Config, *GossipOptions, *staticCache, error) {
	cfg := balancer.DefaultConfig()
	var gossip *GossipOptions
	static := &staticCache{paths: staticCachePaths}
	addNodes := func(args []string) error {
		for _, a := range args {
			n, err := balancer.ParseNode(a)
			if err != nil {
				return d.Errf("%v", err)
			}
			for _, have := range cfg.Nodes {
				if have == n {
					return d.Errf("node %s is listed twice", n)
				}
			}
			cfg.Nodes = append(cfg.Nodes, n)
		}
		return nil
	}
	if err := addNodes(d.RemainingArgs()); err != nil {
		return cfg, nil, nil, err
	}
	seen := map[string]bool{}
	setCluster := func() error {
		if seen["cluster"] {
			return d.Err("cluster is given twice")
		}
		seen["cluster"] = true
		name, err := oneArg(d)
		if err == nil && strings.ContainsAny(name, " \t/") {
			err = d.Errf("cluster name %q must be one word", name)
		}
		cfg.Cluster = name
		return err
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		opt := d.Val()
		if seen[opt] && opt != "nodes" {
			return cfg, nil, nil, d.Errf("%s is given twice", opt)
		}
		var err error
		switch opt {
		case "cluster":
			err = setCluster()
		case "nodes":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return cfg, nil, nil, d.ArgErr()
			}
			err = addNodes(args)
		case "gossip":
			gossip, err = unmarshalGossip(d, setCluster)
		case "health_uri":
			cfg.HealthURI, err = oneArg(d)
			if err == nil && (cfg.HealthURI == "" || cfg.HealthURI[0] != '/') {
				err = d.Errf("health_uri %q must start with /", cfg.HealthURI)
			}
		case "health_interval":
			cfg.HealthInterval, err = durationArg(d, opt, false)
		case "health_timeout":
			cfg.HealthTimeout, err = durationArg(d, opt, false)
		case "try_duration":
			cfg.TryDuration, err = durationArg(d, opt, false)
		case "slow_start":
			cfg.SlowStart, err = durationArg(d, opt, true)
		case "drain_grace":
			cfg.DrainGrace, err = durationArg(d, opt, true)
		case "drain_spread":
			cfg.DrainSpread, err = durationArg(d, opt, true)
		case "health_passes":
			cfg.HealthPasses, err = countArg(d, opt)
		case "health_fails":
			cfg.HealthFails, err = countArg(d, opt)
		case "passive_fails":
			cfg.PassiveFails, err = countArg(d, opt)
		case "server_status":
			if d.NextArg() {
				return cfg, nil, nil, d.ArgErr()
			}
			cfg.ServerStatus = true
		case "cache":
			static, err = unmarshalStaticCache(d)
		case "max_body":
			var s string
			if s, err = oneArg(d); err == nil {
				var n uint64
				n, err = humanize.ParseBytes(s)
				if err != nil || n == 0 || n > 1<<62 {
					err = d.Errf("max_body %q is not a size such as 100MB", s)
				}
				cfg.MaxBody = int64(n)
			}
		default:
			return cfg, nil, nil, d.Errf("unrecognized chorus option %q", opt)
		}
		if err != nil {
			return cfg, nil, nil, err
		}
		seen[opt] = true
	}
	if len(cfg.Nodes) == 0 && gossip == nil {
		return cfg, nil, nil, d.Err("chorus needs nodes: chorus host:port..., nodes host:port... or gossip host:port... in its block")
	}
	if gossip != nil {
		// The key is checked once resolved; the rest is checked here.
		g := *gossip
		g.Key = ""
		gc, err := g.config()
		if err != nil {
			return cfg, nil, nil, d.Errf("gossip: %v", err)
		}
		cfg.Gossip = &gc
	}
	if err := cfg.Validate(); err != nil {
		return cfg, nil, nil, d.Errf("%v", err)
	}
	return cfg, gossip, static, nil
}

// staticCache is the chorus directive's static route: the paths it
// caches and the chorus_cache settings it caches them with.
type staticCache struct {
	paths []string
	opts  Cache
}

// unmarshalStaticCache reads "cache off" or "cache [<paths...>] { <chorus_cache
// options> }". The paths default to /static/*; none may be an API or
// WebSocket path, so API answers and WebSockets are never cached.
func unmarshalStaticCache(d *caddyfile.Dispenser) (*staticCache, error) {
	args := d.RemainingArgs()
	if len(args) == 1 && args[0] == "off" {
		if d.NextBlock(d.Nesting()) {
			return nil, d.Err("cache off takes no block")
		}
		return nil, nil
	}
	sc := &staticCache{paths: staticCachePaths}
	if len(args) > 0 {
		sc.paths = args
	}
	for _, p := range sc.paths {
		switch {
		case !strings.HasPrefix(p, "/"):
			return nil, d.Errf("cache path %q must start with /", p)
		case strings.HasPrefix(p, "/api/") || p == "/api" || p == "/*" || p == "*" || websocketPath.MatchString(strings.TrimSuffix(p, "*")):
			return nil, d.Errf("cache path %q would cache API answers or WebSockets, which are never cached; the chorus directive caches static paths only", p)
		}
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		if err := sc.opts.unmarshalOption(d); err != nil {
			return nil, err
		}
	}
	if _, err := sc.opts.config(); err != nil {
		return nil, d.Errf("cache: %v", err)
	}
	return sc, nil
}

// websocketPath is balancer.WebSocketPath compiled.
var websocketPath = regexp.MustCompile(balancer.WebSocketPath)

// unmarshalGossip reads "gossip <join...> { key … bind … advertise … cluster … }".
func unmarshalGossip(d *caddyfile.Dispenser, setCluster func() error) (*GossipOptions, error) {
	g := &GossipOptions{Join: d.RemainingArgs()}
	if len(g.Join) == 0 {
		return nil, d.Err("gossip needs at least one join address: gossip host:port...")
	}
	for _, j := range g.Join {
		if _, _, err := splitHostPort(j); err != nil && !strings.Contains(j, "{") {
			return nil, d.Errf("gossip join address %q: want host:port: %v", j, err)
		}
	}
	seen := map[string]bool{}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		opt := d.Val()
		if seen[opt] {
			return nil, d.Errf("gossip %s is given twice", opt)
		}
		seen[opt] = true
		var err error
		switch opt {
		case "key":
			if g.Key, err = oneArg(d); err == nil && !strings.Contains(g.Key, "{") {
				err = checkKey(d, g.Key)
			}
		case "bind":
			g.Bind, err = hostPortArg(d, opt)
		case "advertise":
			g.Advertise, err = hostPortArg(d, opt)
		case "cluster":
			err = setCluster()
		default:
			return nil, d.Errf("unrecognized gossip option %q", opt)
		}
		if err != nil {
			return nil, err
		}
	}
	return g, nil
}

// checkKey checks a literal gossip key: base64 of 16, 24 or 32 bytes.
func checkKey(d *caddyfile.Dispenser, key string) error {
	raw, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(key)
	}
	if err != nil {
		return d.Errf("gossip key is not base64: %v", err)
	}
	if n := len(raw); n != 16 && n != 24 && n != 32 {
		return d.Errf("gossip key is %d bytes; want 32 (AES-256), or 16 or 24", n)
	}
	return nil
}

// hostPortArg returns the option's single host:port argument.
func hostPortArg(d *caddyfile.Dispenser, opt string) (string, error) {
	s, err := oneArg(d)
	if err != nil {
		return "", err
	}
	if _, _, err := splitHostPort(s); err != nil && !strings.Contains(s, "{") {
		return "", d.Errf("%s %q: want host:port: %v", opt, s, err)
	}
	return s, nil
}

// oneArg returns the option's single argument.
func oneArg(d *caddyfile.Dispenser) (string, error) {
	args := d.RemainingArgs()
	if len(args) != 1 {
		return "", d.ArgErr()
	}
	return args[0], nil
}

// durationArg returns the option's single argument as a positive duration
// (or, with zeroOK, a duration of at least 0).
func durationArg(d *caddyfile.Dispenser, opt string, zeroOK bool) (time.Duration, error) {
	s, err := oneArg(d)
	if err != nil {
		return 0, err
	}
	v, err := caddy.ParseDuration(s)
	switch {
	case err != nil || v < 0:
		return 0, d.Errf("%s %q is not a duration such as 2s", opt, s)
	case v == 0 && !zeroOK:
		return 0, d.Errf("%s %q is not a positive duration such as 2s", opt, s)
	}
	return v, nil
}

// countArg returns the option's single argument as a count of at least 1.
func countArg(d *caddyfile.Dispenser, opt string) (int, error) {
	s, err := oneArg(d)
	if err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 {
		return 0, d.Errf("%s %q is not a whole number of at least 1", opt, s)
	}
	return v, nil
}

// clusterDecl is the http.handlers.chorus module for cfg, every setting
// written out so "chorus adapt" shows the values in force.
func clusterDecl(cfg balancer.Config, gossip *GossipOptions) Cluster {
	dur := func(v time.Duration) *caddy.Duration { d := caddy.Duration(v); return &d }
	return Cluster{
		Name:           cfg.Cluster,
		Nodes:          cfg.Nodes,
		Gossip:         gossip,
		HealthURI:      cfg.HealthURI,
		HealthInterval: caddy.Duration(cfg.HealthInterval),
		HealthTimeout:  caddy.Duration(cfg.HealthTimeout),
		HealthPasses:   cfg.HealthPasses,
		HealthFails:    cfg.HealthFails,
		ServerStatus:   cfg.ServerStatus,
		PassiveFails:   cfg.PassiveFails,
		SlowStart:      dur(cfg.SlowStart),
		DrainGrace:     dur(cfg.DrainGrace),
		DrainSpread:    dur(cfg.DrainSpread),
		DialTimeout:    caddy.Duration(cfg.DialTimeout),
		ReadTimeout:    caddy.Duration(cfg.ReadTimeout),
		TryDuration:    caddy.Duration(cfg.TryDuration),
	}
}
