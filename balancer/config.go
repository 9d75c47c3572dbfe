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
	// Nodes are the app nodes' API addresses as "host:port", each one
	// normalised by [ParseNode]. Required: the front door needs at least
	// one node.
	Nodes []string

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
}

// DefaultConfig returns the settings of the Mattermost HA guide's NGINX
// config, with failure detection in seconds rather than NGINX's passive
// checks. Nodes is empty.
func DefaultConfig() Config {
	return Config{
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
	}
}

// Validate reports the first setting that cannot work, by name.
func (c Config) Validate() error {
	if len(c.Nodes) == 0 {
		return errors.New("balancer: nodes: at least one node is required")
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
	if c.TryDuration < 0 {
		return fmt.Errorf("balancer: try_duration: must not be negative, got %s", c.TryDuration)
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
