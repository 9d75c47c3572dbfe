package caddymodule

import (
	"io"
	"net/http"
	"sync"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"

	"github.com/seed331fb32b/chorus/balancer"
)

func init() {
	caddy.RegisterModule(Transport{})
}

// Transport is Caddy's HTTP transport that reports every request to the
// cluster: it counts it in flight on its node until the response body is
// closed, counts a failure to reach the node (passive health), and tracks
// an upgraded (101) stream per node so a drain can close it. It takes
// every option of Caddy's http transport.
//
// Module ID: http.reverse_proxy.transport.chorus.
type Transport struct {
	*reverseproxy.HTTPTransport

	// Cluster names the cluster. Default "chorus".
	Cluster string `json:"cluster,omitempty"`

	c *cluster // the shared cluster
}

// CaddyModule returns the Caddy module information.
func (Transport) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.reverse_proxy.transport.chorus",
		New: func() caddy.Module { return &Transport{HTTPTransport: new(reverseproxy.HTTPTransport)} },
	}
}

// Provision takes a reference to the cluster and provisions the embedded
// HTTP transport.
func (t *Transport) Provision(ctx caddy.Context) error {
	if t.HTTPTransport == nil {
		t.HTTPTransport = new(reverseproxy.HTTPTransport)
	}
	c, err := acquire(t.Cluster)
	if err != nil {
		return err
	}
	t.c = c
	return t.HTTPTransport.Provision(ctx)
}

// Cleanup drops the reference and cleans up the embedded transport.
func (t *Transport) Cleanup() error {
	var err error
	if t.HTTPTransport != nil {
		err = t.HTTPTransport.Cleanup()
	}
	if t.c != nil {
		if rerr := release(t.c.name); err == nil {
			err = rerr
		}
	}
	return err
}

// UnmarshalCaddyfile reads "transport chorus { <http transport options> }".
func (t *Transport) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	if t.HTTPTransport == nil {
		t.HTTPTransport = new(reverseproxy.HTTPTransport)
	}
	return t.HTTPTransport.UnmarshalCaddyfile(d)
}

// RoundTrip proxies req through the embedded transport and reports it to
// the request's node.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var n *balancer.Node
	if p := t.c.pool.Load(); p != nil {
		if di, ok := reverseproxy.GetDialInfo(req.Context()); ok && di.Upstream != nil {
			n = p.Lookup(di.Upstream.Dial)
		}
	}
	if n == nil {
		return t.HTTPTransport.RoundTrip(req)
	}
	n.Begin()
	res, err := t.HTTPTransport.RoundTrip(req)
	if err != nil {
		n.End()
		if req.Context().Err() == nil {
			n.ReportFailure(err)
		}
		return nil, err
	}
	n.ReportSuccess()
	if res.StatusCode == http.StatusSwitchingProtocols {
		// Caddy copies the stream through res.Body as an
		// io.ReadWriteCloser; closing the wrapper (a drain) ends the copy
		// and drops the client too.
		if rwc, ok := res.Body.(io.ReadWriteCloser); ok {
			s := &trackedStream{ReadWriteCloser: rwc, n: n}
			n.AddStream(s)
			res.Body = s
			return res, nil
		}
	}
	res.Body = &trackedBody{ReadCloser: res.Body, n: n}
	return res, nil
}

// trackedBody ends its node's count when the response body is closed.
type trackedBody struct {
	io.ReadCloser
	n    *balancer.Node
	once sync.Once
}

func (b *trackedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.n.End)
	return err
}

// trackedStream is an upgraded stream through reverse_proxy, registered
// with its node until closed.
type trackedStream struct {
	io.ReadWriteCloser
	n    *balancer.Node
	once sync.Once
}

func (s *trackedStream) Close() error {
	err := s.ReadWriteCloser.Close()
	s.once.Do(func() {
		s.n.RemoveStream(s)
		s.n.End()
	})
	return err
}

// Interface guards.
var (
	_ caddy.Provisioner     = (*Transport)(nil)
	_ caddy.CleanerUpper    = (*Transport)(nil)
	_ caddyfile.Unmarshaler = (*Transport)(nil)
	_ http.RoundTripper     = (*Transport)(nil)
	_ balancer.Stream       = (*trackedStream)(nil)
)
