package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/seed331fb32b/chorus/node/config"
	"github.com/seed331fb32b/chorus/node/store"
	"github.com/seed331fb32b/chorus/node/ws"
)

// Hub is what the cluster needs of the node's WebSocket hub (node/ws's
// *Hub satisfies it): delivering events that other nodes published,
// handing a connection's queue to another node, and counting sockets.
// Calls are concurrent and may block briefly.
type Hub interface {
	PublishLocal(ctx context.Context, ev ws.Event) error
	TakeQueue(userID, connectionID string) (ws.Queue, bool)
	UserSocketCount(userID string) int
	SocketCount() int
}

// DiscoveryStore is the ClusterDiscovery table (node/store's
// *ClusterDiscoveryStore satisfies it). Calls do I/O, bounded by ctx;
// rows are not kept.
type DiscoveryStore interface {
	Save(ctx context.Context, d *store.ClusterDiscovery) error
	Delete(ctx context.Context, d *store.ClusterDiscovery) (bool, error)
	SetLastPingAt(ctx context.Context, d *store.ClusterDiscovery, at int64) (bool, error)
	GetAll(ctx context.Context, typ, clusterName string, aliveSince int64) ([]*store.ClusterDiscovery, error)
	Cleanup(ctx context.Context, before int64) (int64, error)
}

// KeyStore creates and reads the gossip key's Systems row (node/store's
// *SystemStore satisfies it). InsertIfAbsent returns the stored value,
// the caller's when it inserted it.
type KeyStore interface {
	InsertIfAbsent(ctx context.Context, name, value string) (string, error)
}

// Deps are what a Cluster needs from the rest of the node.
type Deps struct {
	// Discovery is the ClusterDiscovery table. Required.
	Discovery DiscoveryStore
	// System holds the gossip key. Required with
	// ClusterSettings.EnableGossipEncryption.
	System KeyStore
	// Hub is the node's WebSocket hub. Nil: events from other nodes are
	// dropped, queue fetches find nothing and socket counts are zero.
	Hub Hub
	// Logger receives the cluster's and memberlist's logs. Nil discards.
	Logger *zap.Logger
}

// Cluster is this node's membership of its cluster. Make it with [New],
// register handlers and hooks, then [Cluster.Start] it; [Cluster.Stop]
// ends it. All methods are safe for concurrent use.
type Cluster struct {
	cfg      Config
	deps     Deps
	log      *zap.Logger
	host     string           // the address in this node's ClusterDiscovery row
	hostname string           // the host name in the status
	now      func() time.Time // the clock; tests shift it
	clocks   *clocks

	// wrap lets tests wrap the gossip transport; nil in production.
	wrap transportWrapper

	metaMu sync.Mutex // guards meta
	meta   Meta

	handlersMu  sync.RWMutex // guards handlers and leaderHooks
	handlers    map[string]func(ctx context.Context, data []byte)
	leaderHooks []func(leaderID string, isLeader bool)

	startMu sync.Mutex // held by Start, so Stop waits for a Start in progress

	mu       sync.Mutex        // guards the fields below
	state    lifecycle         // new, started, stopped
	members  map[string]Meta   // live app members, this node included, by id
	addrs    map[string]string // gossip host:port of each live app member
	peers    map[string]*peer  // senders to live app members, this node excluded
	leader   string            // id of the live app member with the lowest id
	epochs   uint64            // numbers peer senders
	peerList atomic.Pointer[[]*peer]

	inboxMu sync.Mutex // guards inboxes
	inboxes map[string]*inbox

	reqMu   sync.Mutex // guards pending
	pending map[string]chan response

	g       *gossip                                // set by Start
	row     atomic.Pointer[store.ClusterDiscovery] // this node's discovery row; set by Start
	ready   chan struct{}                          // closed once the gossip is up
	ctx     context.Context                        // ends at Stop: loops, handlers, inboxes
	cancel  context.CancelFunc                     // ends ctx
	bg      sync.WaitGroup                         // the heartbeat, rejoin and leader loops
	leaderQ chan struct{}                          // has a value when the leader may have changed
	reqSem  chan struct{}                          // bounds concurrent request handlers
	drops   atomic.Int64                           // messages dropped, for Dropped
	dropLog atomic.Int64                           // Unix seconds of the last drop logged
	stopped chan struct{}                          // closed when Stop or halt has finished
}

// lifecycle is a Cluster's phase.
type lifecycle int

const (
	stateNew lifecycle = iota
	stateStarted
	stateStopped
)

// Type is what app nodes write in ClusterDiscovery.Type, Mattermost's
// CDSTypeApp.
const Type = "mattermost_app"

// New returns a Cluster for cfg and deps, not yet started. It validates
// cfg (naming the bad setting) and chooses the node's address ([Host]).
func New(cfg Config, deps Deps) (*Cluster, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if deps.Discovery == nil {
		return nil, errors.New("cluster: Deps.Discovery is required")
	}
	host, err := Host(cfg.Settings)
	if err != nil {
		return nil, err
	}
	log := deps.Logger
	if log == nil {
		log = zap.NewNop()
	}
	hostname := cfg.Hostname
	if hostname == "" {
		hostname, _ = os.Hostname()
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Cluster{
		cfg:      cfg,
		deps:     deps,
		log:      log.With(zap.String("node_id", cfg.NodeID)),
		host:     host,
		hostname: hostname,
		now:      time.Now,
		clocks:   newClocks(),
		handlers: map[string]func(context.Context, []byte){},
		members:  map[string]Meta{},
		addrs:    map[string]string{},
		peers:    map[string]*peer{},
		inboxes:  map[string]*inbox{},
		pending:  map[string]chan response{},
		ready:    make(chan struct{}),
		ctx:      ctx,
		cancel:   cancel,
		leaderQ:  make(chan struct{}, 1),
		reqSem:   make(chan struct{}, 64),
		stopped:  make(chan struct{}),
	}
	c.meta = Meta{
		Role:          RoleApp,
		ID:            cfg.NodeID,
		Version:       cfg.Version,
		ConfigHash:    cfg.ConfigHash,
		API:           cfg.APIAddress,
		State:         StateServing,
		SchemaVersion: cfg.SchemaVersion,
		Hostname:      hostname,
	}
	c.peerList.Store(&[]*peer{})
	return c, nil
}

// NodeID returns this node's id.
func (c *Cluster) NodeID() string { return c.cfg.NodeID }

// Start brings the node into its cluster: it reads (or creates) the
// gossip key when encryption is on, starts the gossip member, cleans stale
// ClusterDiscovery rows, replaces this node's own row, joins the nodes of
// the live rows, and starts the heartbeat and rejoin loops. A join that
// finds nobody is not an error: this node may be the first. ctx bounds
// the start only. Start may be called once.
func (c *Cluster) Start(ctx context.Context) error {
	c.startMu.Lock()
	defer c.startMu.Unlock()
	c.mu.Lock()
	if c.state != stateNew {
		c.mu.Unlock()
		return errors.New("cluster: Start called twice")
	}
	c.state = stateStarted
	c.mu.Unlock()

	var key []byte
	if c.cfg.Settings.EnableGossipEncryption {
		var err error
		if key, err = loadKey(ctx, c.deps.System); err != nil {
			c.abort()
			return err
		}
	}
	g, err := startGossip(c, key, c.wrap)
	if err != nil {
		c.abort()
		return err
	}
	c.g = g
	close(c.ready)
	if err := c.register(ctx); err != nil {
		_ = g.shutdown()
		c.abort()
		return err
	}
	c.joinLive(ctx, c.cfg.OfflineAfter)
	c.bg.Add(3)
	go c.heartbeatLoop()
	go c.rejoinLoop()
	go c.leaderLoop()
	c.log.Info("Joined the cluster",
		zap.String("cluster_name", c.cfg.Settings.ClusterName),
		zap.String("gossip_address", g.localAddr()),
		zap.Int("app_nodes", len(c.Members())),
		zap.Bool("encrypted", key != nil))
	return nil
}

// abort ends a Start that failed.
func (c *Cluster) abort() {
	c.mu.Lock()
	c.state = stateStopped
	c.mu.Unlock()
	c.cancel()
	close(c.stopped)
}

// Stop leaves the cluster cleanly: it stops the loops, deletes this
// node's ClusterDiscovery row, tells the others it leaves (within
// Config.LeaveTimeout) and shuts the gossip down. Messages still queued
// for other nodes are dropped. ctx bounds the row's deletion. Calling
// Stop again, or before Start, returns nil.
func (c *Cluster) Stop(ctx context.Context) error {
	if !c.beginStop() {
		return nil
	}
	var errs []error
	if _, err := c.deps.Discovery.Delete(ctx, c.row.Load()); err != nil {
		errs = append(errs, fmt.Errorf("cluster: deleting this node's discovery row: %w", err))
	}
	if err := c.g.leave(c.cfg.LeaveTimeout); err != nil {
		errs = append(errs, fmt.Errorf("cluster: leaving: %w", err))
	}
	if err := c.g.shutdown(); err != nil {
		errs = append(errs, fmt.Errorf("cluster: shutting gossip down: %w", err))
	}
	c.endStop()
	c.log.Info("Left the cluster")
	return errors.Join(errs...)
}

// halt stops the node as a crash would, for tests: no leave, no row
// deleted, so the others must detect it.
func (c *Cluster) halt() {
	if !c.beginStop() {
		return
	}
	_ = c.g.shutdown()
	c.endStop()
}

// beginStop moves a started cluster to stopped and stops its loops; false
// when it was not started or already stopped.
func (c *Cluster) beginStop() bool {
	c.startMu.Lock() // a Start in progress finishes first
	defer c.startMu.Unlock()
	c.mu.Lock()
	if c.state != stateStarted {
		c.mu.Unlock()
		return false
	}
	c.state = stateStopped
	c.mu.Unlock()
	c.cancel()
	c.bg.Wait()
	return true
}

// endStop drops every peer, inbox and pending request.
func (c *Cluster) endStop() {
	c.mu.Lock()
	for _, p := range c.peers {
		p.close()
	}
	c.peers, c.members, c.addrs, c.leader = map[string]*peer{}, map[string]Meta{}, map[string]string{}, ""
	c.peerList.Store(&[]*peer{})
	c.mu.Unlock()
	c.inboxMu.Lock()
	c.inboxes = map[string]*inbox{}
	c.inboxMu.Unlock()
	c.reqMu.Lock()
	for id, ch := range c.pending {
		close(ch)
		delete(c.pending, id)
	}
	c.reqMu.Unlock()
	close(c.stopped)
}

// memberUp records a live app member (joined, or its metadata changed).
// Called by memberlist with its node lock held: no memberlist calls.
func (c *Cluster) memberUp(id, addr string, m Meta) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateStarted {
		return
	}
	c.members[id], c.addrs[id] = m, addr
	if id != c.cfg.NodeID && c.peers[id] == nil {
		c.epochs++
		p := newPeer(c, id, c.epochs)
		c.peers[id] = p
		c.publishPeersLocked()
		go p.run()
	}
	c.electLocked()
}

// memberDown forgets a member that left or died (or is not an app node).
// Called by memberlist with its node lock held.
func (c *Cluster) memberDown(id string) {
	c.mu.Lock()
	if _, ok := c.members[id]; !ok || c.state != stateStarted {
		c.mu.Unlock()
		return
	}
	delete(c.members, id)
	delete(c.addrs, id)
	if p := c.peers[id]; p != nil {
		p.close()
		delete(c.peers, id)
		c.publishPeersLocked()
	}
	c.electLocked()
	c.mu.Unlock()
	c.clocks.forget(id)
	c.inboxMu.Lock()
	if in := c.inboxes[id]; in != nil {
		in.close()
		delete(c.inboxes, id)
	}
	c.inboxMu.Unlock()
	c.log.Info("A node left the cluster or stopped answering", zap.String("peer_id", id))
}

// publishPeersLocked refreshes the snapshot of peers senders read.
func (c *Cluster) publishPeersLocked() {
	list := make([]*peer, 0, len(c.peers))
	for _, p := range c.peers {
		list = append(list, p)
	}
	c.peerList.Store(&list)
}

// Members returns the ids of the live app nodes, this one included, as
// this node sees them now (unordered).
func (c *Cluster) Members() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.members))
	for id := range c.members {
		out = append(out, id)
	}
	return out
}

// metaBytes is this node's metadata for memberlist.
func (c *Cluster) metaBytes(limit int) []byte {
	c.metaMu.Lock()
	defer c.metaMu.Unlock()
	return c.meta.encode(limit)
}

// SetState announces StateServing or StateDraining (the front door stops
// sending new traffic to a draining node), waiting up to ctx's deadline
// (or Config.LeaveTimeout) for the change to reach a peer.
func (c *Cluster) SetState(ctx context.Context, state string) error {
	if state != StateServing && state != StateDraining {
		return fmt.Errorf("cluster: unknown state %q (want %q or %q)", state, StateServing, StateDraining)
	}
	return c.updateMeta(ctx, func(m *Meta) { m.State = state })
}

// SetConfigHash announces a new [ConfigHash], after a config reload.
func (c *Cluster) SetConfigHash(ctx context.Context, hash string) error {
	return c.updateMeta(ctx, func(m *Meta) { m.ConfigHash = hash })
}

// ConfigChanged announces the [ConfigHash] of cfg, the node's new
// configuration after a reload (Mattermost's ClusterInterface has the
// same name); the other nodes' status then shows whether it matches
// theirs.
func (c *Cluster) ConfigChanged(ctx context.Context, cfg *config.Config) error {
	return c.SetConfigHash(ctx, ConfigHash(cfg))
}

// updateMeta changes this node's metadata and re-announces it.
func (c *Cluster) updateMeta(ctx context.Context, change func(*Meta)) error {
	c.metaMu.Lock()
	change(&c.meta)
	c.metaMu.Unlock()
	c.mu.Lock()
	started := c.state == stateStarted
	c.mu.Unlock()
	if !started {
		return nil // announced at Start, or never
	}
	timeout := c.cfg.LeaveTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	if err := c.g.announce(timeout); err != nil {
		return fmt.Errorf("cluster: announcing new metadata: %w", err)
	}
	return nil
}

// Handle registers fn for the app event named event (for example
// [EventClearSessionUser]), replacing any earlier handler. fn runs on the
// sender's delivery goroutine: events from one node reach it one at a
// time, in the order they were sent (reliable events; best-effort ones may
// be lost), events from different nodes concurrently. It may block
// (holding up that sender's later events) and must not keep data. ctx
// ends when the cluster stops. Events the cluster handles itself
// ([EventPublish] and requests) cannot be registered: Handle panics, as a
// wiring mistake.
func (c *Cluster) Handle(event string, fn func(ctx context.Context, data []byte)) {
	if event == "" || event == EventPublish || event == eventResponse || strings.HasPrefix(event, "gossip_") || fn == nil {
		panic(fmt.Sprintf("cluster: cannot handle event %q", event))
	}
	c.handlersMu.Lock()
	c.handlers[event] = fn
	c.handlersMu.Unlock()
}

// Send sends an app event to every other live app node, where the
// handler registered for it runs. [EventUpdateStatus] goes best effort
// (UDP, may be lost, as in Mattermost); every other event reliably (TCP,
// in order per sending node), since a lost invalidation leaves a node
// wrong. Send queues and returns at once; it never blocks on the network.
// data is not kept. Sending before Start or after Stop does nothing.
func (c *Cluster) Send(_ context.Context, event string, data []byte) error {
	if event == "" || event == EventPublish || strings.HasPrefix(event, "gossip_") {
		return fmt.Errorf("cluster: cannot send event %q", event)
	}
	raw, err := json.Marshal(Message{Event: event, Data: data})
	if err != nil {
		return fmt.Errorf("cluster: marshalling %s: %w", event, err)
	}
	c.broadcast(raw, !bestEffortEvents[event] || len(raw) > c.cfg.MaxBestEffortSize)
	return nil
}

// broadcast queues one marshalled message for every peer.
func (c *Cluster) broadcast(raw json.RawMessage, reliable bool) {
	for _, p := range *c.peerList.Load() {
		p.enqueue(outMsg{raw: raw, reliable: reliable})
	}
}

// sendTo queues one marshalled message for peer id, reliably; false when
// id is not a live app peer.
func (c *Cluster) sendTo(id string, raw json.RawMessage) bool {
	c.mu.Lock()
	p := c.peers[id]
	c.mu.Unlock()
	if p == nil {
		return false
	}
	p.enqueue(outMsg{raw: raw, reliable: true})
	return true
}

// dropped counts a message that could not be sent to peer, logging at
// most once a second.
func (c *Cluster) dropped(peer, why string) {
	c.drops.Add(1)
	now := time.Now().Unix()
	if last := c.dropLog.Load(); now > last && c.dropLog.CompareAndSwap(last, now) {
		c.log.Warn("Dropped a message to another node", zap.String("peer_id", peer), zap.String("reason", why),
			zap.Int64("dropped_total", c.drops.Load()))
	}
}

// Dropped returns how many messages to other nodes were dropped since
// Start (full send queue, peer unreachable).
func (c *Cluster) Dropped() int64 { return c.drops.Load() }

// receive takes a frame from memberlist's receive loops; it never blocks.
func (c *Cluster) receive(buf []byte) {
	f, err := decodeFrame(buf)
	if err != nil {
		c.log.Debug("Ignoring a malformed message from another node", zap.Error(err))
		return
	}
	if f.From == c.cfg.NodeID {
		return
	}
	c.inboxMu.Lock()
	in := c.inboxes[f.From]
	if in == nil {
		if c.ctx.Err() != nil {
			c.inboxMu.Unlock()
			return
		}
		in = newInbox(c, f.From)
		c.inboxes[f.From] = in
		go in.run() // ends with c.ctx

	}
	c.inboxMu.Unlock()
	in.push(f)
}

// dispatch hands one message from node from to its handler.
func (c *Cluster) dispatch(from string, m Message) {
	switch {
	case m.Event == EventPublish:
		c.deliverPublish(m.Data)
	case m.Event == eventResponse:
		c.answer(from, m)
	case strings.HasPrefix(m.Event, "gossip_request_"):
		c.serve(from, m)
	default:
		c.handlersMu.RLock()
		fn := c.handlers[m.Event]
		c.handlersMu.RUnlock()
		if fn == nil {
			c.log.Debug("No handler for a cluster event", zap.String("event", m.Event), zap.String("peer_id", from))
			return
		}
		fn(c.ctx, m.Data)
	}
}

// Interface guards: the node's real store and hub satisfy what the
// cluster declares.
var (
	_ DiscoveryStore = (*store.ClusterDiscoveryStore)(nil)
	_ KeyStore       = (*store.SystemStore)(nil)
	_ Hub            = (*ws.Hub)(nil)
)
