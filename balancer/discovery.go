package balancer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// GossipConfig is how the front door joins the app nodes' memberlist
// (the gossip contract in docs/architecture.md). Start from
// [DefaultGossipConfig].
type GossipConfig struct {
	// Join lists host:port gossip addresses of app nodes to join through;
	// any one alive is enough. Required.
	Join []string

	// Key is the AES key of gossip encryption (the app nodes'
	// ClusterEncryptionKey, 32 bytes for AES-256; 16 and 24 work too);
	// nil: no encryption.
	Key []byte

	// BindAddr and BindPort are where the front door's member listens (TCP
	// and UDP). Port 0 takes any free port, which memberlist then
	// advertises. Default 0.0.0.0:7946.
	BindAddr string
	BindPort int

	// AdvertiseAddr and AdvertisePort are what other members dial, when
	// they differ from the bind address (NAT, 0.0.0.0). Empty and 0:
	// memberlist's choice.
	AdvertiseAddr string
	AdvertisePort int

	// ProbeInterval, ProbeTimeout, SuspicionMult and GossipInterval are
	// memberlist's failure detector, shrunk from its LAN defaults as the
	// app nodes' are so a dead member is noticed within a second or two.
	// Lower: faster detection, more gossip traffic.
	ProbeInterval  time.Duration
	ProbeTimeout   time.Duration
	SuspicionMult  int
	GossipInterval time.Duration

	// RejoinInterval is how often the front door joins through Join again
	// while it knows no app node (at start before any is up, or after all
	// died): memberlist does not rejoin by itself.
	RejoinInterval time.Duration
}

// DefaultGossipConfig returns the settings of the gossip contract, with no
// join address.
func DefaultGossipConfig() GossipConfig {
	return GossipConfig{
		BindAddr:       "0.0.0.0",              // every interface, as memberlist does
		BindPort:       7946,                   // memberlist's default port
		ProbeInterval:  300 * time.Millisecond, // a crashed node is dropped within about 1.5 s
		ProbeTimeout:   150 * time.Millisecond, // loopback and LAN answer in well under that
		SuspicionMult:  2,                      // suspicion lasts 0.6 s: time for a busy node to refute
		GossipInterval: 100 * time.Millisecond, // a join or a state change spreads in about this
		RejoinInterval: time.Second,            // a cluster started after the front door is found at once
	}
}

// Validate reports the first setting that cannot work, by name.
func (g GossipConfig) Validate() error {
	if len(g.Join) == 0 {
		return errors.New("balancer: gossip: at least one join address is required")
	}
	for _, a := range g.Join {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return fmt.Errorf("balancer: gossip: join address %q: want host:port: %w", a, err)
		}
	}
	switch len(g.Key) {
	case 0, 16, 24, 32:
	default:
		return fmt.Errorf("balancer: gossip: key: want 16, 24 or 32 bytes (AES), got %d", len(g.Key))
	}
	if g.BindPort < 0 || g.BindPort > 65535 || g.AdvertisePort < 0 || g.AdvertisePort > 65535 {
		return fmt.Errorf("balancer: gossip: port out of range")
	}
	if g.ProbeInterval <= 0 || g.ProbeTimeout <= 0 || g.GossipInterval <= 0 || g.RejoinInterval <= 0 || g.SuspicionMult < 1 {
		return errors.New("balancer: gossip: probe_interval, probe_timeout, gossip_interval, rejoin_interval and suspicion_mult must be positive")
	}
	return nil
}

// MemberMeta is a member's metadata in the gossip (memberlist's NodeMeta,
// compact JSON of at most 512 bytes), as the gossip contract defines it.
type MemberMeta struct {
	Role       string `json:"role"` // RoleApp or RoleProxy
	ID         string `json:"id"`
	Version    string `json:"version,omitempty"`
	ConfigHash string `json:"config_hash,omitempty"`
	API        string `json:"api,omitempty"`   // host:port of the node's HTTP API
	State      string `json:"state,omitempty"` // StateServing or StateDrainingMeta
}

// Member roles and states of the gossip contract.
const (
	RoleApp           = "app"
	RoleProxy         = "proxy"
	MetaServing       = "serving"
	MetaDrainingState = "draining"
)

// Discovery is the front door's member in the app nodes' memberlist, with
// role proxy: it adds every app member's API address to a [Pool] when it
// joins, drains it while its state is draining, and removes it when it
// leaves or dies, with no configuration change. The memberlist types stop
// here.
type Discovery struct {
	pool *Pool
	cfg  GossipConfig
	ml   *memberlist.Memberlist
	stop chan struct{} // closed by Stop; ends the rejoin loop
	done chan struct{} // closed when the rejoin loop has ended

	mu   sync.Mutex        // guards apps
	apps map[string]string // app member name → its API address
}

// StartDiscovery creates the front door's member (named
// proxy-<hostname>-<random>, labelled with the pool's cluster name), joins
// through cfg.Join and keeps rejoining while no app member is known.
// memberlist's own log goes to logOut (nil discards it). A join that fails
// now is not an error: the nodes may start later.
func StartDiscovery(pool *Pool, cfg GossipConfig, logOut io.Writer) (*Discovery, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logOut == nil {
		logOut = io.Discard
	}
	d := &Discovery{pool: pool, cfg: cfg, stop: make(chan struct{}), done: make(chan struct{}), apps: map[string]string{}}
	host, _ := os.Hostname()
	mc := memberlist.DefaultLANConfig()
	mc.Name = fmt.Sprintf("proxy-%s-%06x", host, rand.IntN(1<<24))
	mc.Label = pool.Name()
	mc.BindAddr, mc.BindPort = cfg.BindAddr, cfg.BindPort
	mc.AdvertiseAddr, mc.AdvertisePort = cfg.AdvertiseAddr, cfg.AdvertisePort
	if mc.AdvertisePort == 0 {
		mc.AdvertisePort = cfg.BindPort
	}
	mc.ProbeInterval, mc.ProbeTimeout = cfg.ProbeInterval, cfg.ProbeTimeout
	mc.SuspicionMult, mc.GossipInterval = cfg.SuspicionMult, cfg.GossipInterval
	// A state change (a node announcing a drain) travels by UDP gossip,
	// which may be lost; a full state exchange with one member this often
	// (memberlist scales it up with the cluster's size) heals that within
	// seconds rather than the LAN default's 30.
	mc.PushPullInterval = 2 * time.Second
	mc.SecretKey = cfg.Key
	mc.LogOutput = logOut
	meta, _ := json.Marshal(MemberMeta{Role: RoleProxy, ID: mc.Name, State: MetaServing})
	mc.Delegate = metaDelegate(meta)
	mc.Events = (*events)(d)
	ml, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("balancer: gossip: starting the member on %s: %w", net.JoinHostPort(cfg.BindAddr, strconv.Itoa(cfg.BindPort)), err)
	}
	d.ml = ml
	d.join()
	go d.rejoinLoop()
	return d, nil
}

// Addr returns the address the front door's member listens on.
func (d *Discovery) Addr() string {
	n := d.ml.LocalNode()
	return net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
}

// Apps returns the number of app members known now.
func (d *Discovery) Apps() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.apps)
}

// Stop leaves the gossip (telling the others at once, within timeout) and
// shuts the member down. The nodes it added stay in the pool.
func (d *Discovery) Stop(timeout time.Duration) error {
	close(d.stop)
	<-d.done
	leaveErr := d.ml.Leave(timeout)
	if err := d.ml.Shutdown(); err != nil {
		return fmt.Errorf("balancer: gossip: shutting down: %w", err)
	}
	if leaveErr != nil {
		return fmt.Errorf("balancer: gossip: leaving: %w", leaveErr)
	}
	return nil
}

// join joins through the configured addresses; failure is retried by
// rejoinLoop.
func (d *Discovery) join() {
	_, _ = d.ml.Join(d.cfg.Join)
}

func (d *Discovery) rejoinLoop() {
	defer close(d.done)
	t := time.NewTicker(d.cfg.RejoinInterval)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			if d.Apps() == 0 {
				d.join()
			}
		}
	}
}

// member applies one member's metadata: an app member is added (or its
// address moved) and drained or undrained by its state; other roles are
// ignored.
func (d *Discovery) member(name string, raw []byte) {
	var m MemberMeta
	if json.Unmarshal(raw, &m) != nil || m.Role != RoleApp {
		return
	}
	addr, err := ParseNode(m.API)
	if err != nil {
		return
	}
	d.mu.Lock()
	old, had := d.apps[name]
	d.apps[name] = addr
	d.mu.Unlock()
	if had && old != addr {
		d.pool.forget(old)
	}
	d.pool.discover(addr, m.State == MetaDrainingState)
}

// left removes an app member that left or died.
func (d *Discovery) left(name string) {
	d.mu.Lock()
	addr, had := d.apps[name]
	delete(d.apps, name)
	d.mu.Unlock()
	if had {
		d.pool.forget(addr)
	}
}

// discover adds a gossiped node, or updates its gossip state.
func (p *Pool) discover(addr string, draining bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.nodes[addr]
	if n == nil {
		n = p.addLocked(addr)
	}
	n.gossiped = true
	switch {
	case draining && !n.gossipDraining:
		n.gossipDraining = true
		p.drainLocked(n, DrainByGossip, "node announced a drain (gossip state draining)")
	case !draining && n.gossipDraining:
		n.gossipDraining = false
		if n.drainBy == DrainByGossip {
			p.applyLocked(n, evUndrain, "node withdrew its drain (gossip state serving)")
		}
	}
}

// forget removes a node that left the gossip, unless it is also listed
// statically (then the probes decide).
func (p *Pool) forget(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.nodes[addr]
	if n == nil {
		return
	}
	n.gossiped, n.gossipDraining = false, false
	if !n.static {
		p.removeLocked(n, "left the gossip")
	}
}

// events adapts memberlist's EventDelegate to Discovery.
type events Discovery

func (e *events) NotifyJoin(n *memberlist.Node)   { (*Discovery)(e).member(n.Name, n.Meta) }
func (e *events) NotifyUpdate(n *memberlist.Node) { (*Discovery)(e).member(n.Name, n.Meta) }
func (e *events) NotifyLeave(n *memberlist.Node)  { (*Discovery)(e).left(n.Name) }

// metaDelegate gives memberlist the front door's metadata; the front door
// takes part in no broadcast and no state exchange.
type metaDelegate []byte

func (m metaDelegate) NodeMeta(limit int) []byte {
	if len(m) > limit {
		return nil
	}
	return m
}
func (metaDelegate) NotifyMsg([]byte)                    {}
func (metaDelegate) GetBroadcasts(int, int) [][]byte     { return nil }
func (metaDelegate) LocalState(bool) []byte              { return nil }
func (metaDelegate) MergeRemoteState(buf []byte, _ bool) {}

// Interface guards.
var (
	_ memberlist.EventDelegate = (*events)(nil)
	_ memberlist.Delegate      = metaDelegate(nil)
)
