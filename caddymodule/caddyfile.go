package caddymodule

import (
	"strconv"
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
//		nodes           <host:port...>
//		health_uri      <uri>        # default /api/v4/system/ping
//		health_interval <duration>   # default 2s
//		health_timeout  <duration>   # default 2s
//		health_passes   <n>          # default 2
//		health_fails    <n>          # default 2
//		server_status                # probe with get_server_status=true
//		max_body        <size>       # default 100MB
//		try_duration    <duration>   # default 5s
//	}
//
// It expands into a subroute: the WebSocket route and the default route,
// each a reverse_proxy with the Mattermost HA guide's settings (see
// [buildRoutes]). Every bad value is reported with the Caddyfile's name and
// line.
func parseChorus(h httpcaddyfile.Helper) ([]httpcaddyfile.ConfigValue, error) {
	h.Next() // directive name
	userMatcher, err := h.ExtractMatcherSet()
	if err != nil {
		return nil, err
	}
	h.Next() // ExtractMatcherSet rewound to before the directive's name
	cfg, err := unmarshalConfig(h.Dispenser)
	if err != nil {
		return nil, err
	}
	return []httpcaddyfile.ConfigValue{{Class: "route", Value: buildRoutes(cfg, userMatcher, h)}}, nil
}

// unmarshalConfig reads the directive's arguments and block into a
// balancer.Config on top of balancer.DefaultConfig. d is positioned on the
// directive's name, after any matcher token.
func unmarshalConfig(d *caddyfile.Dispenser) (balancer.Config, error) {
	cfg := balancer.DefaultConfig()
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
		return cfg, err
	}
	seen := map[string]bool{}
	for d.NextBlock(0) {
		opt := d.Val()
		if seen[opt] && opt != "nodes" {
			return cfg, d.Errf("%s is given twice", opt)
		}
		seen[opt] = true
		var err error
		switch opt {
		case "nodes":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return cfg, d.ArgErr()
			}
			err = addNodes(args)
		case "health_uri":
			cfg.HealthURI, err = oneArg(d)
			if err == nil && (cfg.HealthURI == "" || cfg.HealthURI[0] != '/') {
				err = d.Errf("health_uri %q must start with /", cfg.HealthURI)
			}
		case "health_interval":
			cfg.HealthInterval, err = durationArg(d, opt)
		case "health_timeout":
			cfg.HealthTimeout, err = durationArg(d, opt)
		case "try_duration":
			cfg.TryDuration, err = durationArg(d, opt)
		case "health_passes":
			cfg.HealthPasses, err = countArg(d, opt)
		case "health_fails":
			cfg.HealthFails, err = countArg(d, opt)
		case "server_status":
			if d.NextArg() {
				return cfg, d.ArgErr()
			}
			cfg.ServerStatus = true
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
			return cfg, d.Errf("unrecognized chorus option %q", opt)
		}
		if err != nil {
			return cfg, err
		}
	}
	if len(cfg.Nodes) == 0 {
		return cfg, d.Err("chorus needs at least one node: chorus host:port... or nodes host:port... in its block")
	}
	if err := cfg.Validate(); err != nil {
		return cfg, d.Errf("%v", err)
	}
	return cfg, nil
}

// oneArg returns the option's single argument.
func oneArg(d *caddyfile.Dispenser) (string, error) {
	args := d.RemainingArgs()
	if len(args) != 1 {
		return "", d.ArgErr()
	}
	return args[0], nil
}

// durationArg returns the option's single argument as a positive duration.
func durationArg(d *caddyfile.Dispenser, opt string) (time.Duration, error) {
	s, err := oneArg(d)
	if err != nil {
		return 0, err
	}
	v, err := caddy.ParseDuration(s)
	if err != nil || v <= 0 {
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
