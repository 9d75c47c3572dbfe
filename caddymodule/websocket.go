package caddymodule

import (
	"errors"
	"net"
	"net/http"
	"reflect"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/seed331fb32b/chorus/balancer"
)

func init() {
	caddy.RegisterModule(WebSocket{})
}

// WebSocket tunnels HTTP/1.1 WebSocket upgrades to the cluster's active
// nodes with the balancer's lean tunnel (two goroutines per socket, no
// buffer while idle; the handler returns once the tunnel runs), counted,
// drained and balanced like every other request. Anything else (an HTTP/2
// extended CONNECT, a plain GET of the WebSocket path) goes to the next
// handler, the route's reverse_proxy. Tunnels are not tied to the config:
// a Caddy reload leaves them open.
//
// Module ID: http.handlers.chorus_websocket.
type WebSocket struct {
	// Cluster names the cluster. Default "chorus".
	Cluster string `json:"cluster,omitempty"`

	c *cluster // the shared cluster
}

// CaddyModule returns the Caddy module information.
func (WebSocket) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.chorus_websocket",
		New: func() caddy.Module { return new(WebSocket) },
	}
}

// Provision takes a reference to the cluster.
func (h *WebSocket) Provision(caddy.Context) error {
	c, err := acquire(h.Cluster)
	h.c = c
	return err
}

// Cleanup drops the reference; open tunnels stay.
func (h *WebSocket) Cleanup() error {
	if h.c == nil {
		return nil
	}
	return release(h.c.name)
}

// ServeHTTP tunnels a WebSocket upgrade or calls next.
func (h *WebSocket) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if !balancer.IsWebSocketUpgrade(r) {
		return next.ServeHTTP(w, r)
	}
	proxy := h.c.ws.Load()
	if proxy == nil {
		_, err := h.c.poolOrErr()
		return err
	}
	if err := proxy.ServeHTTP(w, r); err != nil {
		var he *balancer.HandshakeError
		if errors.As(err, &he) {
			return caddyhttp.Error(he.Status, err)
		}
		return caddyhttp.Error(http.StatusBadGateway, err)
	}
	return nil
}

// unwrapConn returns the socket under Caddy's HTTP/1-only listener
// wrapper (caddyhttp's unexported http2Conn, which only watches the first
// bytes of a connection for an HTTP/2 preface and then passes reads
// through), so the tunnel can wait on the socket without a buffer. Any
// other wrapper is kept: it may hold buffered bytes (PROXY protocol) or
// state (TLS).
func unwrapConn(c net.Conn) net.Conn {
	v := reflect.ValueOf(c)
	if v.Kind() != reflect.Pointer || v.Type().String() != "*caddyhttp.http2Conn" {
		return c
	}
	f := v.Elem().FieldByName("Conn")
	if !f.IsValid() || !f.CanInterface() {
		return c
	}
	if inner, ok := f.Interface().(net.Conn); ok && inner != nil {
		return inner
	}
	return c
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*WebSocket)(nil)
	_ caddy.CleanerUpper          = (*WebSocket)(nil)
	_ caddyhttp.MiddlewareHandler = (*WebSocket)(nil)
)
