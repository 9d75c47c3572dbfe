package caddymodule

import (
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"

	"github.com/seed331fb32b/chorus/balancer"
)

func init() {
	caddy.RegisterModule(Selection{})
}

// Selection is reverse_proxy's selection policy for a cluster: least
// connections counted by the balancer (requests in flight plus open
// WebSockets, through every route and the WebSocket tunnel alike), with
// slow start for a node that just became active.
//
// Module ID: http.reverse_proxy.selection_policies.chorus.
type Selection struct {
	// Cluster names the cluster. Default "chorus".
	Cluster string `json:"cluster,omitempty"`

	c *cluster // the shared cluster
}

// CaddyModule returns the Caddy module information.
func (Selection) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.reverse_proxy.selection_policies.chorus",
		New: func() caddy.Module { return new(Selection) },
	}
}

// Provision takes a reference to the cluster.
func (s *Selection) Provision(caddy.Context) error {
	c, err := acquire(s.Cluster)
	s.c = c
	return err
}

// Cleanup drops the reference.
func (s *Selection) Cleanup() error {
	if s.c == nil {
		return nil
	}
	return release(s.c.name)
}

// Select picks among the available upstreams the one whose node the
// balancer ranks best; an upstream that is not an active node of the
// cluster is passed over.
func (s *Selection) Select(pool reverseproxy.UpstreamPool, _ *http.Request, _ http.ResponseWriter) *reverseproxy.Upstream {
	p := s.c.pool.Load()
	if p == nil || len(pool) == 0 {
		return nil
	}
	active := p.Active()
	i := p.Best(len(pool), func(i int) *balancer.Node {
		u := pool[i]
		if !u.Available() {
			return nil
		}
		// The upstream source built pool from this same list, so the
		// nodes line up unless the list changed in between.
		if i < len(active) && active[i].Addr() == u.Dial {
			return active[i]
		}
		for _, n := range active {
			if n.Addr() == u.Dial {
				return n
			}
		}
		return nil
	})
	if i < 0 {
		return nil
	}
	return pool[i]
}

// UnmarshalCaddyfile reads "lb_policy chorus [<cluster>]" inside reverse_proxy.
func (s *Selection) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the module name
	if d.NextArg() {
		s.Cluster = d.Val()
	}
	if d.NextArg() || d.NextBlock(0) {
		return d.ArgErr()
	}
	return nil
}

// Interface guards.
var (
	_ caddy.Provisioner     = (*Selection)(nil)
	_ caddy.CleanerUpper    = (*Selection)(nil)
	_ caddyfile.Unmarshaler = (*Selection)(nil)
	_ reverseproxy.Selector = (*Selection)(nil)
)
