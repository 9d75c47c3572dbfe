package ws

import (
	"sync"
	"sync/atomic"
	"time"
)

// conn is one logical connection, the unit a client resumes: its id, its
// queue of events not yet written (which keeps filling while no socket is
// attached) and its ring of events written. Sockets come and go under it:
// at most one is attached at a time.
type conn struct {
	userID string      // immutable
	send   chan *frame // events and replies waiting for a socket; immutable

	// attachMu serialises handovers between sockets (attach, resume,
	// take): its holder, once the previous socket's writer has exited,
	// owns seq and dead until it starts the next writer.
	attachMu sync.Mutex

	// Guarded by Hub.mu.
	id            string    // the connection_id the client knows
	sessionID     string    // session that authenticated the current socket
	sock          *socket   // attached socket; nil while disconnected
	inactiveSince time.Time // when sock became nil
	removed       bool      // no longer in the Hub's index

	// Owned by the attached socket's writer, or by the holder of attachMu
	// after that writer exited.
	seq  int64     // seq of the next event written
	dead deadQueue // the last events written

	// overflowed is set once, by the first enqueue that found send full;
	// that enqueue starts the connection's removal.
	overflowed atomic.Bool
}

// newConn returns a connection of userID with an empty queue and ring.
func newConn(id, userID, sessionID string, cfg Config) *conn {
	return &conn{
		id:        id,
		userID:    userID,
		sessionID: sessionID,
		send:      make(chan *frame, cfg.SendQueueSize),
		dead:      newDeadQueue(cfg.DeadQueueSize),
	}
}

// enqueue puts f on c's queue without ever blocking. From half full on,
// droppable events (typing, status_change, channel_viewed) are dropped;
// when the queue is full the connection is removed and its socket closed,
// as Mattermost does, since an event is lost and the client must resync.
func (h *Hub) enqueue(c *conn, f *frame) {
	if f.droppable && len(c.send) >= h.slowQueue {
		return
	}
	select {
	case c.send <- f:
	default:
		if c.overflowed.CompareAndSwap(false, true) {
			go h.drop(c, "send queue full")
		}
	}
}
