package caddymodule

import (
	"net/http"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

func init() {
	caddy.RegisterModule(Upstreams{})
}

// Upstreams is reverse_proxy's dynamic upstream source for a cluster: it
// hands reverse_proxy the cluster's active nodes only, so a joining,
// unhealthy, draining or drained node gets no new request, and a node
// learnt from the gossip gets traffic with no config reload.
//
// Module ID: http.reverse_proxy.upstreams.chorus.
type Upstreams struct {
	// Cluster names the cluster (its http.handlers.chorus). Default
	// "chorus".
	Cluster string `json:"cluster,omitempty"`

	c *cluster // the shared cluster
}

// CaddyModule returns the Caddy module information.
func (Upstreams) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.reverse_proxy.upstreams.chorus",
		New: func() caddy.Module { return new(Upstreams) },
	}
}

// Provision takes a reference to the cluster.
func (u *Upstreams) Provision(caddy.Context) error {
	c, err := acquire(u.Cluster)
	u.c = c
	return err
}

// Cleanup drops the reference.
func (u *Upstreams) Cleanup() error {
	if u.c == nil {
		return nil
	}
	return release(u.c.name)
}

// GetUpstreams returns a fresh Upstream for every active node, in address
// order: reverse_proxy provisions (mutates) what it gets on every request,
// so the values are never shared.
func (u *Upstreams) GetUpstreams(*http.Request) ([]*reverseproxy.Upstream, error) {
	p, err := u.c.poolOrErr()
	if err != nil {
		return nil, err
	}
	active := p.Active()
	ups := make([]*reverseproxy.Upstream, len(active))
	for i, n := range active {
		ups[i] = &reverseproxy.Upstream{Dial: n.Addr()}
	}
	return ups, nil
}

// UnmarshalCaddyfile reads "dynamic chorus [<cluster>]" inside reverse_proxy.
func (u *Upstreams) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the module name
	if d.NextArg() {
		u.Cluster = d.Val()
	}
	if d.NextArg() || d.NextBlock(0) {
		return d.ArgErr()
	}
	return nil
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*Upstreams)(nil)
	_ caddy.CleanerUpper          = (*Upstreams)(nil)
	_ caddyfile.Unmarshaler       = (*Upstreams)(nil)
	_ reverseproxy.UpstreamSource = (*Upstreams)(nil)
)
