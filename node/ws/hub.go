package ws

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/zap"
)

// Hub is the node's WebSocket API: an http.Handler for
// GET /api/v4/websocket and the fan-out of events to the connections it
// holds. All methods are safe for concurrent use.
type Hub struct {
	cfg       Config
	deps      Deps
	log       *zap.Logger
	hostname  string             // hello's server_hostname
	slowQueue int                // queue length from which droppable events are dropped
	upgrader  websocket.Upgrader // immutable after New
	now       func() time.Time   // clock of connection expiry; tests replace it

	cluster atomic.Pointer[clusterRef] // set by SetCluster; nil: single node

	ctx    context.Context // ends at Close; parent of every socket's context
	cancel context.CancelFunc
	status *statusQueue

	mu       sync.RWMutex       // guards the fields below and conn's index fields
	byID     map[string]*conn   // every connection, by connection_id
	byUser   map[string][]*conn // every connection, by user
	active   map[string]int     // open sockets per user
	closed   bool               // Close was called: no new sockets
	draining bool               // Drain was called: no new sockets, connections kept
	empty    chan struct{}      // closed once byID is empty while draining; made by Drain
	served   sync.WaitGroup     // ServeHTTP calls that passed the closed check

	bg sync.WaitGroup // the reaper and status goroutines
}

// clusterRef boxes a Cluster for the atomic pointer.
type clusterRef struct{ c Cluster }

// ErrClosed is returned by [Hub.Publish] and [Hub.PublishLocal] after
// [Hub.Close].
var ErrClosed = errors.New("ws: hub closed")

// New returns a Hub serving with cfg and deps; it starts the goroutines
// that expire disconnected connections and report presence, which
// [Hub.Close] stops. cfg is validated and never modified.
func New(cfg Config, deps Deps) (*Hub, error) {
	return newHub(cfg, deps, time.Now)
}

// newHub is New with the clock of connection expiry injected.
func newHub(cfg Config, deps Deps, now func() time.Time) (*Hub, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if deps.Auth == nil {
		return nil, errors.New("ws: Deps.Auth is required")
	}
	if deps.Members == nil {
		return nil, errors.New("ws: Deps.Members is required")
	}
	log := deps.Logger
	if log == nil {
		log = zap.NewNop()
	}
	hostname := cfg.Hostname
	if hostname == "" {
		hostname, _ = os.Hostname() // on failure "" leaves the key out
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{
		cfg:       cfg,
		deps:      deps,
		log:       log,
		hostname:  hostname,
		slowQueue: cfg.SendQueueSize / 2, // Mattermost's sendSlowWarn
		now:       now,
		ctx:       ctx,
		cancel:    cancel,
		status:    newStatusQueue(),
		byID:      make(map[string]*conn),
		byUser:    make(map[string][]*conn),
		active:    make(map[string]int),
	}
	h.upgrader = websocket.Upgrader{
		HandshakeTimeout: cfg.WriteWait,
		CheckOrigin:      deps.CheckOrigin,
		Error:            h.upgradeError,
	}
	h.bg.Add(1)
	go h.runReaper()
	if deps.Status != nil {
		h.bg.Add(1)
		go h.runStatus()
	}
	return h, nil
}

// SetCluster makes Publish forward events to c and lets reconnecting
// clients resume connections held by other nodes. Nil detaches. It may be
// called at any time; events published meanwhile use either value.
func (h *Hub) SetCluster(c Cluster) {
	if c == nil {
		h.cluster.Store(nil)
		return
	}
	h.cluster.Store(&clusterRef{c})
}

// clusterOf returns the cluster set with SetCluster, or nil.
func (h *Hub) clusterOf() Cluster {
	if r := h.cluster.Load(); r != nil {
		return r.c
	}
	return nil
}

// Close refuses new sockets, closes every socket, forgets every
// connection (so none can be resumed here, nor taken: [Hub.Drain] first
// lets other nodes take them) and stops the Hub's goroutines.
// It returns when every socket's goroutines have ended. Presence
// transitions not yet delivered are dropped: a stopping node's users are
// for the app (or the cluster) to settle.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	var socks []*socket
	for _, c := range h.byID {
		if s := h.removeLocked(c); s != nil {
			socks = append(socks, s)
		}
	}
	h.mu.Unlock()
	for _, s := range socks {
		s.close()
	}
	h.cancel() // also ends sockets still waiting for authentication
	h.served.Wait()
	h.bg.Wait()
	return nil
}

// Publish delivers ev to the connections on this node that ev.Broadcast
// selects, then hands it to the cluster, if any, for the other nodes. It
// never waits for a socket: each connection's queue takes the event or
// drops it as [Config.SendQueueSize] describes. Events published one after
// the other by one goroutine reach each connection in that order. The
// event is marshalled once, whatever the number of receivers.
//
// It returns an error when ev has no name or cannot be marshalled, when
// its receivers cannot be resolved ([Membership]) and, after Close,
// [ErrClosed]; the cluster still gets ev in the last two cases.
func (h *Hub) Publish(ctx context.Context, ev Event) error {
	err := h.PublishLocal(ctx, ev)
	if c := h.clusterOf(); c != nil && !errors.Is(err, errMarshal) {
		c.Forward(ctx, ev)
	}
	return err
}

// errMarshal marks a Publish error that comes from marshalling the event.
var errMarshal = errors.New("ws: cannot marshal event")

// PublishLocal is Publish without the cluster: it delivers ev on this node
// only. The cluster calls it for events that other nodes published, so an
// event is never forwarded twice.
func (h *Hub) PublishLocal(ctx context.Context, ev Event) error {
	if ev.Event == "" {
		return fmt.Errorf("%w: event without a name", errMarshal)
	}
	h.mu.RLock()
	closed, idle := h.closed, len(h.byID) == 0
	h.mu.RUnlock()
	switch {
	case closed:
		return ErrClosed
	case idle: // spares the membership lookup on a node without sockets
		return nil
	}
	b := &ev.Broadcast
	var members map[string]struct{}
	byMembers := b.ConnectionID == "" && b.UserID == "" && (b.ChannelID != "" || b.TeamID != "")
	if byMembers {
		var err error
		if b.ChannelID != "" {
			members, err = h.deps.Members.ChannelMembers(ctx, b.ChannelID)
			if err != nil {
				return fmt.Errorf("ws: resolving members of channel %s: %w", b.ChannelID, err)
			}
		} else {
			members, err = h.deps.Members.TeamMembers(ctx, b.TeamID)
			if err != nil {
				return fmt.Errorf("ws: resolving members of team %s: %w", b.TeamID, err)
			}
		}
	}
	f, err := newEventFrame(ev)
	if err != nil {
		return fmt.Errorf("%w: %w", errMarshal, err)
	}

	h.mu.RLock()
	defer h.mu.RUnlock()
	switch {
	case h.closed:
		return ErrClosed
	case b.ConnectionID != "":
		if c := h.byID[b.ConnectionID]; c != nil {
			h.enqueue(c, f)
		}
	case b.UserID != "":
		h.enqueueUser(h.byUser[b.UserID], f, b.OmitConnectionID)
	case byMembers:
		if len(members) < len(h.byUser) {
			for userID := range members {
				if _, omit := b.OmitUsers[userID]; !omit {
					h.enqueueUser(h.byUser[userID], f, b.OmitConnectionID)
				}
			}
		} else {
			for userID, conns := range h.byUser {
				_, member := members[userID]
				if _, omit := b.OmitUsers[userID]; member && !omit {
					h.enqueueUser(conns, f, b.OmitConnectionID)
				}
			}
		}
	default:
		for userID, conns := range h.byUser {
			if _, omit := b.OmitUsers[userID]; !omit {
				h.enqueueUser(conns, f, b.OmitConnectionID)
			}
		}
	}
	return nil
}

// enqueueUser enqueues f on conns, except the one whose id is omitID.
// h.mu must be held.
func (h *Hub) enqueueUser(conns []*conn, f *frame, omitID string) {
	for _, c := range conns {
		if omitID == "" || c.id != omitID {
			h.enqueue(c, f)
		}
	}
}

// CloseSession closes the sockets authenticated by sessionID and forgets
// their connections, for a logout or a revoked session. It reports how
// many connections it ended.
func (h *Hub) CloseSession(sessionID string) int {
	h.mu.Lock()
	var socks []*socket
	n := 0
	for _, c := range h.byID {
		if c.sessionID == sessionID {
			n++
			if s := h.removeLocked(c); s != nil {
				socks = append(socks, s)
			}
		}
	}
	h.mu.Unlock()
	for _, s := range socks {
		s.close()
	}
	return n
}

// SocketCount returns the number of open sockets on this node.
func (h *Hub) SocketCount() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := 0
	for _, c := range h.active {
		n += c
	}
	return n
}

// UserSocketCount returns the number of open sockets userID has on this
// node (Mattermost's WebConnCountForUser), for the cluster to decide
// whether a user is offline everywhere.
func (h *Hub) UserSocketCount(userID string) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.active[userID]
}

// insertLocked adds c to the index. h.mu must be held for writing.
func (h *Hub) insertLocked(c *conn) {
	h.byID[c.id] = c
	h.byUser[c.userID] = append(h.byUser[c.userID], c)
}

// removeLocked takes c out of the index, so nothing reaches or resumes it
// any more, and returns its socket for the caller to close (its reader
// then detaches it). h.mu must be held for writing.
func (h *Hub) removeLocked(c *conn) *socket {
	if c.removed {
		return nil
	}
	c.removed = true
	if h.byID[c.id] == c {
		delete(h.byID, c.id)
	}
	if h.empty != nil && len(h.byID) == 0 {
		select {
		case <-h.empty:
		default:
			close(h.empty)
		}
	}
	conns := slices.DeleteFunc(h.byUser[c.userID], func(x *conn) bool { return x == c })
	if len(conns) == 0 {
		delete(h.byUser, c.userID)
	} else {
		h.byUser[c.userID] = conns
	}
	return c.sock
}

// rekeyLocked gives c a new connection_id. h.mu must be held for writing.
func (h *Hub) rekeyLocked(c *conn, id string) {
	if !c.removed && h.byID[c.id] == c {
		delete(h.byID, c.id)
		h.byID[id] = c
	}
	c.id = id
}

// drop removes c and closes its socket; why is logged.
func (h *Hub) drop(c *conn, why string) {
	h.mu.Lock()
	id := c.id
	s := h.removeLocked(c)
	h.mu.Unlock()
	if s != nil {
		s.close()
	}
	h.log.Info("Closing WebSocket connection", zap.String("user_id", c.userID),
		zap.String("connection_id", id), zap.String("reason", why))
}

// runReaper removes expired disconnected connections every
// InactiveTimeout/4 until the Hub closes.
func (h *Hub) runReaper() {
	defer h.bg.Done()
	t := time.NewTicker(max(h.cfg.InactiveTimeout/4, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
			h.reap()
		}
	}
}

// reap removes every connection that has had no socket for longer than
// InactiveTimeout.
func (h *Hub) reap() {
	now := h.now()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.byID {
		if h.expiredLocked(c, now) {
			h.removeLocked(c)
		}
	}
}

// expiredLocked reports whether c has had no socket for longer than
// InactiveTimeout at now. h.mu must be held.
func (h *Hub) expiredLocked(c *conn, now time.Time) bool {
	return c.sock == nil && now.Sub(c.inactiveSince) > h.cfg.InactiveTimeout
}

var _ http.Handler = (*Hub)(nil)
