package balancer

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// WebSocketPath is the regular expression of the app nodes' WebSocket
// routes, the same as the location of the Mattermost HA guide's NGINX
// config: requests matching it are upgraded and tunnelled, never cached.
const WebSocketPath = `/api/v[0-9]+/(users/)?websocket$`

// PingPath is Mattermost's health-check route, which needs no session.
const PingPath = "/api/v4/system/ping"

// Config describes one cluster of app nodes as the front door sees it.
// The zero value is not useful; start from [DefaultConfig].
type Config struct {
	// Cluster names the cluster: the key under which one front door keeps
	// one [Pool] (and so one health checker) however many routes use it,
	// the label in logs, metrics and the admin API, and the gossip label
	// (memberlist's Label, the app nodes' ClusterSettings.ClusterName).
	// Default: "chorus".
	Cluster string

	// Nodes are the app nodes' API addresses as "host:port", each one
	// normalised by [ParseNode]: the static list. At least one node or
	// Gossip is required.
	Nodes []string

	// Gossip, when not nil, makes the front door join the app nodes'
	// memberlist and learn nodes from it (see [Discovery]); nil: the static
	// list only.
	Gossip *GossipConfig

	// HealthURI is the path (and query) probed on every node. A node
	// answering anything but 200 is failing. Default: [PingPath].
	HealthURI string

	// HealthInterval is the time between two probes of one node.
	// Lower: faster detection, more probe traffic. A node leaves after
	// HealthFails × HealthInterval and returns after
	// HealthPasses × HealthInterval.
	HealthInterval time.Duration

	// HealthTimeout bounds one probe; a probe slower than this fails.
	HealthTimeout time.Duration

	// HealthPasses is the number of consecutive passed probes after which
	// a failing node serves again.
	HealthPasses int

	// HealthFails is the number of consecutive failed probes after which
	// a node stops getting traffic.
	HealthFails int

	// ServerStatus adds get_server_status=true to the probe, so a node
	// whose database is down answers 500 and is taken out (Mattermost's
	// ping writes and deletes a Systems row on the master for it).
	ServerStatus bool

	// MaxBody is the largest request body in bytes (the seed's
	// client_max_body_size 100M); a larger one is refused with 413.
	MaxBody int64

	// DialTimeout, WriteTimeout and ReadTimeout are the seed's
	// proxy_connect_timeout, proxy_send_timeout and proxy_read_timeout:
	// the time to connect to a node, and the longest wait for one write to
	// or one read from it.
	DialTimeout  time.Duration
	WriteTimeout time.Duration
	ReadTimeout  time.Duration

	// KeepAlive is the number of idle connections kept open to each node
	// (the seed's keepalive 256).
	KeepAlive int

	// TryDuration is how long a request that could not reach a node is
	// retried on other nodes before the client gets 502.
	TryDuration time.Duration

	// PassiveFails is the number of consecutive failures of real traffic
	// to reach a node (refused or broken connections) after which it is
	// unhealthy without waiting for the checker; it returns after
	// HealthPasses passed probes. Lower: fewer requests spent on a dead
	// node, more risk that a hiccup takes a node out.
	PassiveFails int

	// SlowStart is how long a node that just became active takes to get
	// its full share of new connections: its weight in least-connections
	// selection grows linearly from a twentieth to one over this time, so
	// a restarted node is not stampeded by every reconnecting client.
	// Zero: no slow start.
	SlowStart time.Duration

	// DrainGrace is how long the WebSockets of a draining node are left
	// open after the drain starts, so the node can close them itself (a
	// graceful shutdown closes them with proper frames).
	DrainGrace time.Duration

	// DrainSpread is the window over which the WebSockets still open after
	// DrainGrace are closed by the front door, in batches, so the clients
	// reconnect to the other nodes spread over it rather than at once.
	// Zero: all at once.
	DrainSpread time.Duration
}

// DefaultConfig returns the settings of the Mattermost HA guide's NGINX
// config, with failure detection in seconds rather than NGINX's passive
// checks. Nodes is empty.
func DefaultConfig() Config {
	return Config{
		Cluster:        "chorus",         // one cluster per front door needs no name
		HealthURI:      PingPath,         // Mattermost's documented load-balancer check
		HealthInterval: 2 * time.Second,  // a dead node is out within seconds, not the seeds' 30
		HealthTimeout:  2 * time.Second,  // a ping answers in milliseconds; longer means trouble
		HealthPasses:   2,                // one lucky probe does not bring a flapping node back
		HealthFails:    2,                // one lost probe does not take a node out
		ServerStatus:   false,            // opt in: a database outage would take out every node at once
		MaxBody:        100 << 20,        // client_max_body_size 100M
		DialTimeout:    30 * time.Second, // proxy_connect_timeout 30s
		WriteTimeout:   90 * time.Second, // proxy_send_timeout 90s
		ReadTimeout:    90 * time.Second, // proxy_read_timeout 90s; nodes ping sockets every 60 s
		KeepAlive:      256,              // keepalive 256
		TryDuration:    5 * time.Second,  // covers a node's death until the checker sees it
		PassiveFails:   1,                // a refused connection is a dead node until a probe says otherwise
		SlowStart:      30 * time.Second, // spreads a reconnect storm over half a minute
		DrainGrace:     30 * time.Second, // a node's own graceful shutdown closes its sockets first
		DrainSpread:    30 * time.Second, // clients reconnect over half a minute, not in one storm
	}
}

// Validate reports the first setting that cannot work, by name.
func (c Config) Validate() error {
	if c.Cluster == "" {
		return errors.New("balancer: cluster: the name must not be empty")
	}
	if len(c.Nodes) == 0 && c.Gossip == nil {
		return errors.New("balancer: nodes: at least one node (or gossip) is required")
	}
	if c.Gossip != nil {
		if err := c.Gossip.Validate(); err != nil {
			return err
		}
	}
	seen := make(map[string]bool, len(c.Nodes))
	for _, n := range c.Nodes {
		if _, err := ParseNode(n); err != nil {
			return err
		}
		if seen[n] {
			return fmt.Errorf("balancer: nodes: %s is listed twice", n)
		}
		seen[n] = true
	}
	if !strings.HasPrefix(c.HealthURI, "/") {
		return fmt.Errorf("balancer: health_uri: %q must start with /", c.HealthURI)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"health_interval", c.HealthInterval},
		{"health_timeout", c.HealthTimeout},
		{"dial_timeout", c.DialTimeout},
		{"write_timeout", c.WriteTimeout},
		{"read_timeout", c.ReadTimeout},
	} {
		if d.v <= 0 {
			return fmt.Errorf("balancer: %s: must be positive, got %s", d.name, d.v)
		}
	}
	if c.HealthPasses < 1 {
		return fmt.Errorf("balancer: health_passes: must be at least 1, got %d", c.HealthPasses)
	}
	if c.HealthFails < 1 {
		return fmt.Errorf("balancer: health_fails: must be at least 1, got %d", c.HealthFails)
	}
	if c.MaxBody < 1 {
		return fmt.Errorf("balancer: max_body: must be positive, got %d", c.MaxBody)
	}
	if c.PassiveFails < 1 {
		return fmt.Errorf("balancer: passive_fails: must be at least 1, got %d", c.PassiveFails)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"try_duration", c.TryDuration},
		{"slow_start", c.SlowStart},
		{"drain_grace", c.DrainGrace},
		{"drain_spread", c.DrainSpread},
	} {
		if d.v < 0 {
			return fmt.Errorf("balancer: %s: must not be negative, got %s", d.name, d.v)
		}
	}
	return nil
}

// ProbeURI is the request URI of a health probe: HealthURI, with
// get_server_status=true added when ServerStatus is set.
func (c Config) ProbeURI() string {
	if !c.ServerStatus {
		return c.HealthURI
	}
	sep := "?"
	if strings.Contains(c.HealthURI, "?") {
		sep = "&"
	}
	return c.HealthURI + sep + "get_server_status=true"
}

// ParseNode normalises an app node's address to "host:port". It accepts
// "host:port", "[v6]:port" and "http://host:port" (the form an operator
// copies from a SiteURL); it refuses a missing or bad port, a path, and
// https, since the nodes are reached over the private network in plain
// HTTP as in the HA guide.
func ParseNode(addr string) (string, error) {
	raw := addr
	if strings.Contains(addr, "://") {
		u, err := url.Parse(addr)
		if err != nil {
			return "", fmt.Errorf("balancer: node %q: %w", raw, err)
		}
		if u.Scheme != "http" {
			return "", fmt.Errorf("balancer: node %q: scheme %q is not supported, use http or host:port", raw, u.Scheme)
		}
		if u.Path != "" && u.Path != "/" {
			return "", fmt.Errorf("balancer: node %q: a node address has no path", raw)
		}
		addr = u.Host
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("balancer: node %q: want host:port: %w", raw, err)
	}
	if host == "" {
		return "", fmt.Errorf("balancer: node %q: missing host", raw)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return "", fmt.Errorf("balancer: node %q: port %q is not a number from 1 to 65535", raw, port)
	}
	return net.JoinHostPort(host, port), nil
}
