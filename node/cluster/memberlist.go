package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"go.uber.org/zap"
)

// This file is the only one that knows memberlist: the gossip adapter the
// rest of the package calls, and the delegates memberlist calls back,
// which convert to Chorus types at once.

// gossip is the node's memberlist member.
type gossip struct {
	ml   *memberlist.Memberlist // set once Create returns
	logs *logWriter             // memberlist's log, muted at shutdown

	mu    sync.RWMutex               // guards nodes
	nodes map[string]memberlist.Node // copies of the live members' nodes, by name
}

// errNoMember is a send to a member the gossip does not know (any more).
var errNoMember = errors.New("cluster: no such member")

// transportWrapper lets tests put a transport around the real one (to cut
// a node off); nil in production.
type transportWrapper func(memberlist.NodeAwareTransport) memberlist.NodeAwareTransport

// startGossip creates the member and its listeners; it joins nobody.
func startGossip(c *Cluster, key []byte, wrap transportWrapper) (*gossip, error) {
	cfg, s := c.cfg, c.cfg.Settings
	g := &gossip{nodes: map[string]memberlist.Node{}}
	mc := memberlist.DefaultLANConfig()
	mc.Name = cfg.NodeID
	mc.Label = s.ClusterName
	mc.BindAddr = s.BindAddress
	if mc.BindAddr == "" {
		mc.BindAddr = "0.0.0.0"
	}
	mc.BindPort, mc.AdvertisePort = s.GossipPort, s.GossipPort
	mc.AdvertiseAddr = s.AdvertiseAddress
	if mc.AdvertiseAddr == "" && mc.BindAddr == "0.0.0.0" && net.ParseIP(c.host) != nil {
		// Announce the address written to ClusterDiscovery rather than
		// memberlist's guess, which fails on a host without a private IP.
		mc.AdvertiseAddr = c.host
	}
	mc.ProbeInterval, mc.ProbeTimeout = cfg.ProbeInterval, cfg.ProbeTimeout
	mc.SuspicionMult, mc.GossipInterval = cfg.SuspicionMult, cfg.GossipInterval
	mc.TCPTimeout = cfg.TCPTimeout
	mc.EnableCompression = s.EnableGossipCompression
	mc.SecretKey = key
	g.logs = &logWriter{log: c.log.Named("memberlist")}
	mc.Logger = log.New(g.logs, "", 0)
	mc.Delegate = (*delegate)(c)
	mc.Events = &events{c: c, g: g}
	mc.Ping = (*pings)(c)
	if wrap != nil {
		nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{
			BindAddrs: []string{mc.BindAddr}, BindPort: mc.BindPort, Logger: mc.Logger,
		})
		if err != nil {
			return nil, fmt.Errorf("cluster: gossip transport on %s: %w", net.JoinHostPort(mc.BindAddr, strconv.Itoa(mc.BindPort)), err)
		}
		if mc.BindPort == 0 {
			mc.BindPort = nt.GetAutoBindPort()
			mc.AdvertisePort = mc.BindPort
		}
		mc.Transport = wrap(nt)
	}
	ml, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("cluster: starting gossip on %s: %w",
			net.JoinHostPort(mc.BindAddr, strconv.Itoa(s.GossipPort)), err)
	}
	g.ml = ml
	return g, nil
}

// node returns the live member of name.
func (g *gossip) node(name string) (*memberlist.Node, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	n, ok := g.nodes[name]
	return &n, ok
}

// sendReliable sends b to member name over TCP; it blocks until written.
func (g *gossip) sendReliable(name string, b []byte) error {
	n, ok := g.node(name)
	if !ok {
		return errNoMember
	}
	return g.ml.SendReliable(n, b)
}

// sendBestEffort sends b to member name in one UDP datagram.
func (g *gossip) sendBestEffort(name string, b []byte) error {
	n, ok := g.node(name)
	if !ok {
		return errNoMember
	}
	return g.ml.SendBestEffort(n, b)
}

// join contacts addrs (host:port) and merges with their members; it
// returns how many answered.
func (g *gossip) join(addrs []string) (int, error) { return g.ml.Join(addrs) }

// localAddr returns the address other members reach this one at.
func (g *gossip) localAddr() string {
	n := g.ml.LocalNode()
	return net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
}

// announce re-broadcasts this member's metadata, waiting up to timeout for
// it to reach a peer.
func (g *gossip) announce(timeout time.Duration) error { return g.ml.UpdateNode(timeout) }

// leave tells the others this member is going, within timeout.
func (g *gossip) leave(timeout time.Duration) error { return g.ml.Leave(timeout) }

// shutdown stops the listeners and every background goroutine, without a
// leave: the others find the member dead.
func (g *gossip) shutdown() error {
	err := g.ml.Shutdown()
	g.logs.muted.Store(true)
	return err
}

// memberAddrs returns the host:port of every live member, proxies
// included.
func (g *gossip) memberAddrs() map[string]bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	out := make(map[string]bool, len(g.nodes))
	for _, n := range g.nodes {
		out[n.Address()] = true
	}
	return out
}

// events adapts memberlist's EventDelegate. memberlist calls it with its
// node lock held: it must not call back into memberlist.
type events struct {
	c *Cluster
	g *gossip
}

func (e *events) NotifyJoin(n *memberlist.Node)   { e.alive(n) }
func (e *events) NotifyUpdate(n *memberlist.Node) { e.alive(n) }

func (e *events) NotifyLeave(n *memberlist.Node) {
	e.g.mu.Lock()
	delete(e.g.nodes, n.Name)
	e.g.mu.Unlock()
	e.c.memberDown(n.Name)
}

func (e *events) alive(n *memberlist.Node) {
	cp := *n // memberlist updates its node in place under its lock
	e.g.mu.Lock()
	e.g.nodes[n.Name] = cp
	e.g.mu.Unlock()
	if m, ok := decodeMeta(cp.Meta); ok {
		e.c.memberUp(cp.Name, cp.Address(), m)
	} else {
		e.c.memberDown(cp.Name) // a proxy, or an app node that changed role
	}
}

// delegate adapts memberlist's Delegate: metadata and user messages. The
// cluster takes part in no gossip broadcast and no state exchange.
type delegate Cluster

func (d *delegate) NodeMeta(limit int) []byte           { return (*Cluster)(d).metaBytes(limit) }
func (d *delegate) NotifyMsg(buf []byte)                { (*Cluster)(d).receive(buf) }
func (d *delegate) GetBroadcasts(int, int) [][]byte     { return nil }
func (d *delegate) LocalState(bool) []byte              { return nil }
func (d *delegate) MergeRemoteState(buf []byte, _ bool) {}

// pings adapts memberlist's PingDelegate: every ack of a direct probe
// carries the acking node's clock, so the prober learns the offset of the
// other's clock to its own (see clock.go).
type pings Cluster

func (p *pings) AckPayload() []byte {
	return binary.BigEndian.AppendUint64(nil, uint64((*Cluster)(p).now().UnixNano()))
}

func (p *pings) NotifyPingComplete(n *memberlist.Node, rtt time.Duration, payload []byte) {
	if len(payload) != 8 {
		return
	}
	c := (*Cluster)(p)
	c.clocks.sample(n.Name, rtt, int64(binary.BigEndian.Uint64(payload)), c.now())
}

// logWriter turns memberlist's log lines ("[ERR] memberlist: …") into zap
// entries: ERR and WARN as warnings (a refused member of another cluster,
// a wrong key, a failed probe), INFO as info (suspect, dead), DEBUG as
// debug. Once muted (the gossip is shut down) it drops lines: memberlist
// does not wait for a probe in flight to end.
type logWriter struct {
	log   *zap.Logger
	muted atomic.Bool
}

func (w *logWriter) Write(p []byte) (int, error) {
	if w.muted.Load() {
		return len(p), nil
	}
	line := strings.TrimSpace(string(p))
	level, msg := "", line
	if strings.HasPrefix(line, "[") {
		if end := strings.IndexByte(line, ']'); end > 0 {
			level, msg = line[1:end], strings.TrimSpace(line[end+1:])
		}
	}
	msg = strings.TrimPrefix(msg, "memberlist: ")
	switch level {
	case "ERR", "ERROR", "WARN":
		w.log.Warn(msg)
	case "INFO":
		w.log.Info(msg)
	default:
		w.log.Debug(msg)
	}
	return len(p), nil
}

// Interface guards.
var (
	_ memberlist.EventDelegate = (*events)(nil)
	_ memberlist.Delegate      = (*delegate)(nil)
	_ memberlist.PingDelegate  = (*pings)(nil)
	_ io.Writer                = (*logWriter)(nil)
)
