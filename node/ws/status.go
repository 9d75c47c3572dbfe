package ws

import "sync"

// statusChange is one presence transition of a user on this node.
type statusChange struct {
	userID string
	online bool
}

// statusQueue carries presence transitions, in order, from the Hub (which
// records them under its lock) to the one goroutine that calls the
// [StatusHook], so a slow hook never holds up a socket.
type statusQueue struct {
	mu    sync.Mutex     // guards items
	items []statusChange // transitions not yet delivered, oldest first
	wake  chan struct{}  // has a value when items may be non-empty
}

func newStatusQueue() *statusQueue {
	return &statusQueue{wake: make(chan struct{}, 1)}
}

// push appends a transition. It never blocks.
func (q *statusQueue) push(c statusChange) {
	q.mu.Lock()
	q.items = append(q.items, c)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take removes and returns every waiting transition.
func (q *statusQueue) take() []statusChange {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	q.items = nil
	return items
}

// runStatus delivers transitions to the hook until the Hub closes.
func (h *Hub) runStatus() {
	defer h.bg.Done()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-h.status.wake:
		}
		for _, c := range h.status.take() {
			if h.ctx.Err() != nil {
				return
			}
			if c.online {
				h.deps.Status.UserOnline(h.ctx, c.userID)
			} else {
				h.deps.Status.UserOffline(h.ctx, c.userID)
			}
		}
	}
}

// addActiveLocked counts delta more open sockets for userID and records
// the transition when the count leaves or reaches zero. h.mu must be held
// for writing, so transitions are recorded in the order they happen.
func (h *Hub) addActiveLocked(userID string, delta int) {
	before := h.active[userID]
	after := before + delta
	if after <= 0 {
		delete(h.active, userID)
	} else {
		h.active[userID] = after
	}
	if h.deps.Status == nil {
		return
	}
	switch {
	case before == 0 && after > 0:
		h.status.push(statusChange{userID: userID, online: true})
	case before > 0 && after <= 0:
		h.status.push(statusChange{userID: userID, online: false})
	}
}
