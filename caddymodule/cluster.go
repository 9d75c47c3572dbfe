package caddymodule

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/seed331fb32b/chorus/balancer"
)

func init() {
	caddy.RegisterModule(Cluster{})
}

// Cluster declares a cluster of app nodes to the front door: its nodes (a
// static list, gossip, or both), health checks, slow start and drain
// settings. The other Chorus modules (the upstream source, the selection
// policy, the transport, the WebSocket handler) name the cluster and share
// its one pool and one health checker. As a handler it does nothing but
// call the next one; the chorus Caddyfile directive puts it first in its
// subroute.
//
// Module ID: http.handlers.chorus. Unset fields take the defaults of
// balancer.DefaultConfig.
type Cluster struct {
	// Name of the cluster: the gossip label (the app nodes'
	// ClusterSettings.ClusterName) and the name in the admin API, logs and
	// metrics. Default "chorus". Several handlers naming one cluster share
	// it; they must carry the same settings.
	Name string `json:"cluster,omitempty"`

	// Nodes is the static list of the app nodes' API addresses
	// (host:port).
	Nodes []string `json:"nodes,omitempty"`

	// Gossip joins the app nodes' memberlist to learn nodes; nil: none.
	Gossip *GossipOptions `json:"gossip,omitempty"`

	// HealthURI is the probe's path and query. Default
	// /api/v4/system/ping.
	HealthURI string `json:"health_uri,omitempty"`
	// HealthInterval between two probes of a node. Default 2s.
	HealthInterval caddy.Duration `json:"health_interval,omitempty"`
	// HealthTimeout bounds one probe. Default 2s.
	HealthTimeout caddy.Duration `json:"health_timeout,omitempty"`
	// HealthPasses in a row bring an unhealthy node back. Default 2.
	HealthPasses int `json:"health_passes,omitempty"`
	// HealthFails in a row take an active node out. Default 2.
	HealthFails int `json:"health_fails,omitempty"`
	// ServerStatus adds get_server_status=true to the probe, so a node
	// whose database is down answers 500 and is taken out.
	ServerStatus bool `json:"server_status,omitempty"`
	// PassiveFails: failed requests in a row that take a node out at once.
	// Default 1.
	PassiveFails int `json:"passive_fails,omitempty"`
	// SlowStart: the time a node just active takes to get its full share
	// of new connections. Default 30s; 0 turns it off.
	SlowStart *caddy.Duration `json:"slow_start,omitempty"`
	// DrainGrace: how long a draining node's WebSockets are left open.
	// Default 30s.
	DrainGrace *caddy.Duration `json:"drain_grace,omitempty"`
	// DrainSpread: the window over which the WebSockets left after the
	// grace are closed. Default 30s; 0 closes them at once.
	DrainSpread *caddy.Duration `json:"drain_spread,omitempty"`
	// DialTimeout, ReadTimeout: connecting to a node, and waiting for its
	// answer to a WebSocket upgrade. Default 30s and 90s.
	DialTimeout caddy.Duration `json:"dial_timeout,omitempty"`
	ReadTimeout caddy.Duration `json:"read_timeout,omitempty"`
	// TryDuration: how long a WebSocket upgrade that could not reach a node
	// is retried on the others. Default 5s.
	TryDuration caddy.Duration `json:"try_duration,omitempty"`

	c *cluster // the shared cluster, from the registry
}

// GossipOptions is how the front door joins the app nodes' gossip.
type GossipOptions struct {
	// Join lists gossip addresses (host:port) of app nodes.
	Join []string `json:"join,omitempty"`
	// Key is the base64 gossip encryption key (the app nodes'
	// ClusterEncryptionKey); placeholders such as {env.CHORUS_GOSSIP_KEY}
	// are replaced at load. Empty: no encryption.
	Key string `json:"key,omitempty"`
	// Bind is where the front door's member listens, host:port; port 0
	// takes a free one. Default 0.0.0.0:7946.
	Bind string `json:"bind,omitempty"`
	// Advertise is the address other members dial when it differs from
	// Bind.
	Advertise string `json:"advertise,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (Cluster) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.chorus",
		New: func() caddy.Module { return new(Cluster) },
	}
}

// Provision builds the balancer configuration and applies it to the
// shared cluster: the first load creates its pool and starts its checker
// (and gossip member); a reload reconfigures them in place.
func (h *Cluster) Provision(ctx caddy.Context) error {
	cfg, err := h.config()
	if err != nil {
		return err
	}
	registerMetrics(ctx)
	c, err := acquire(cfg.Cluster)
	if err != nil {
		return err
	}
	h.c = c
	return c.configure(cfg, ctx.Logger())
}

// Cleanup drops this handler's reference to the shared cluster.
func (h *Cluster) Cleanup() error {
	if h.c == nil {
		return nil
	}
	return release(h.c.name)
}

// ServeHTTP calls next.
func (h *Cluster) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	return next.ServeHTTP(w, r)
}

// config copies the set fields onto balancer.DefaultConfig.
func (h *Cluster) config() (balancer.Config, error) {
	cfg := balancer.DefaultConfig()
	if h.Name != "" {
		cfg.Cluster = h.Name
	}
	for _, n := range h.Nodes {
		addr, err := balancer.ParseNode(n)
		if err != nil {
			return cfg, err
		}
		cfg.Nodes = append(cfg.Nodes, addr)
	}
	if h.HealthURI != "" {
		cfg.HealthURI = h.HealthURI
	}
	setDuration(&cfg.HealthInterval, h.HealthInterval)
	setDuration(&cfg.HealthTimeout, h.HealthTimeout)
	setDuration(&cfg.DialTimeout, h.DialTimeout)
	setDuration(&cfg.ReadTimeout, h.ReadTimeout)
	setDuration(&cfg.TryDuration, h.TryDuration)
	setInt(&cfg.HealthPasses, h.HealthPasses)
	setInt(&cfg.HealthFails, h.HealthFails)
	setInt(&cfg.PassiveFails, h.PassiveFails)
	cfg.ServerStatus = h.ServerStatus
	for _, d := range []struct {
		to   *time.Duration
		from *caddy.Duration
	}{{&cfg.SlowStart, h.SlowStart}, {&cfg.DrainGrace, h.DrainGrace}, {&cfg.DrainSpread, h.DrainSpread}} {
		if d.from != nil {
			*d.to = time.Duration(*d.from)
		}
	}
	if h.Gossip != nil {
		g, err := h.Gossip.config()
		if err != nil {
			return cfg, err
		}
		cfg.Gossip = &g
	}
	return cfg, cfg.Validate()
}

func setDuration(to *time.Duration, from caddy.Duration) {
	if from != 0 {
		*to = time.Duration(from)
	}
}

func setInt(to *int, from int) {
	if from != 0 {
		*to = from
	}
}

// config resolves placeholders and decodes the key.
func (g *GossipOptions) config() (balancer.GossipConfig, error) {
	out := balancer.DefaultGossipConfig()
	repl := caddy.NewReplacer()
	for _, j := range g.Join {
		out.Join = append(out.Join, repl.ReplaceKnown(j, ""))
	}
	if key := strings.TrimSpace(repl.ReplaceKnown(g.Key, "")); key != "" {
		raw, err := base64.StdEncoding.DecodeString(key)
		if err != nil {
			raw, err = base64.RawStdEncoding.DecodeString(key)
		}
		if err != nil {
			return out, fmt.Errorf("gossip key: not base64: %w", err)
		}
		out.Key = raw
	} else if g.Key != "" {
		return out, fmt.Errorf("gossip key %q is empty once its placeholders are replaced", g.Key)
	}
	var err error
	if g.Bind != "" {
		if out.BindAddr, out.BindPort, err = splitHostPort(repl.ReplaceKnown(g.Bind, "")); err != nil {
			return out, fmt.Errorf("gossip bind: %w", err)
		}
	}
	if g.Advertise != "" {
		if out.AdvertiseAddr, out.AdvertisePort, err = splitHostPort(repl.ReplaceKnown(g.Advertise, "")); err != nil {
			return out, fmt.Errorf("gossip advertise: %w", err)
		}
	}
	return out, nil
}

func splitHostPort(s string) (string, int, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, err
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return "", 0, fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return host, p, nil
}

// clusters holds one *cluster per cluster name, and is package-level
// because it must outlive a Caddy reload: Caddy provisions the new config
// (LoadOrNew finds the entry and adds a reference) before it cleans up the
// old one (Delete drops a reference), so the pool, its one health checker,
// its gossip member, the node states, drains in progress and the open
// WebSocket tunnels carry over, and no membership change ever needs a
// reload. An entry is destroyed when no loaded config names it any more.
// Every Chorus module naming a cluster holds a reference, so the checker
// runs once per cluster however many handlers use it.
var clusters = caddy.NewUsagePool()

// cluster is the shared state of one named cluster.
type cluster struct {
	name   string
	pool   atomic.Pointer[balancer.Pool]           // nil until a Cluster handler configures it
	logger atomic.Pointer[zap.Logger]              // the latest configuring handler's logger
	ws     atomic.Pointer[balancer.WebSocketProxy] // the tunnel for pool; nil until configured

	mu     sync.Mutex             // guards disc and gossip
	disc   *balancer.Discovery    // the gossip member; nil without gossip
	gossip *balancer.GossipConfig // the settings disc runs with
}

// acquire returns the cluster named name, creating it, with one more
// reference.
func acquire(name string) (*cluster, error) {
	if name == "" {
		name = balancer.DefaultConfig().Cluster
	}
	v, _, err := clusters.LoadOrNew(name, func() (caddy.Destructor, error) {
		c := &cluster{name: name}
		c.logger.Store(zap.NewNop())
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*cluster), nil
}

// release drops one reference to the cluster named name.
func release(name string) error {
	if name == "" {
		name = balancer.DefaultConfig().Cluster
	}
	_, err := clusters.Delete(name)
	return err
}

// lookupCluster returns the cluster named name if a loaded config has it.
func lookupCluster(name string) *cluster {
	var found *cluster
	clusters.Range(func(k, v any) bool {
		if k == name {
			found = v.(*cluster)
			return false
		}
		return true
	})
	return found
}

// allClusters returns every loaded cluster, in no order.
func allClusters() []*cluster {
	var out []*cluster
	clusters.Range(func(_, v any) bool {
		out = append(out, v.(*cluster))
		return true
	})
	return out
}

// configure applies cfg: the first time it makes the pool and starts it,
// later (a reload) it reconfigures it; the gossip member is (re)started
// when its settings changed.
func (c *cluster) configure(cfg balancer.Config, logger *zap.Logger) error {
	c.logger.Store(logger)
	if p := c.pool.Load(); p != nil {
		if err := p.Reconfigure(cfg); err != nil {
			return err
		}
	} else {
		p, err := balancer.NewPool(cfg, balancer.Options{Observer: (*observer)(c)})
		if err != nil {
			return err
		}
		p.Start()
		c.ws.Store(&balancer.WebSocketProxy{Pool: p, UnwrapConn: unwrapConn})
		c.pool.Store(p)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if reflect.DeepEqual(c.gossip, cfg.Gossip) {
		return nil
	}
	if c.disc != nil {
		if err := c.disc.Stop(time.Second); err != nil {
			logger.Warn("leaving the gossip", zap.String("cluster", c.name), zap.Error(err))
		}
		c.disc, c.gossip = nil, nil
	}
	if cfg.Gossip == nil {
		return nil
	}
	disc, err := balancer.StartDiscovery(c.pool.Load(), *cfg.Gossip, gossipLog{c})
	if err != nil {
		return err
	}
	c.disc, c.gossip = disc, cfg.Gossip
	logger.Info("joined the gossip as a proxy member",
		zap.String("cluster", c.name), zap.String("addr", disc.Addr()), zap.Strings("join", cfg.Gossip.Join))
	return nil
}

// Destruct stops the checker, drain timers and gossip member once no
// config uses the cluster. Open tunnels are left to end by themselves.
func (c *cluster) Destruct() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	if c.disc != nil {
		err = c.disc.Stop(time.Second)
		c.disc, c.gossip = nil, nil
	}
	if p := c.pool.Load(); p != nil {
		p.Stop()
	}
	return err
}

// poolOrErr returns the pool, or a 503 error before it is configured.
func (c *cluster) poolOrErr() (*balancer.Pool, error) {
	if p := c.pool.Load(); p != nil {
		return p, nil
	}
	return nil, caddyhttp.Error(http.StatusServiceUnavailable, errNotConfigured{c.name})
}

type errNotConfigured struct{ name string }

func (e errNotConfigured) Error() string {
	return fmt.Sprintf("cluster %q has no http.handlers.chorus declaring it", e.name)
}

var errUnknownCluster = errors.New("no such cluster")

// Interface guards.
var (
	_ caddy.Provisioner           = (*Cluster)(nil)
	_ caddy.CleanerUpper          = (*Cluster)(nil)
	_ caddyhttp.MiddlewareHandler = (*Cluster)(nil)
	_ caddy.Destructor            = (*cluster)(nil)
)
