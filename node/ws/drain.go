package ws

import (
	"context"
	"fmt"
	"sync"

	"github.com/gorilla/websocket"
)

// Drain hands a stopping node's connections over to the other nodes: it
// refuses new sockets (503, and a resume is refused too), closes every
// open socket with a close frame 1001 (going away) so its client
// reconnects elsewhere, and keeps every connection, its queue still
// taking the events published meanwhile, for the node its client
// reconnects to to take ([Hub.TakeQueue], which the cluster calls). It
// returns nil once no connection is left (each was taken, or expired, or
// overflowed), or an error saying how many are left when ctx ends or
// [Config.DrainTimeout] passes, whichever comes first. [Hub.Close] then
// forgets them. After Close, Drain returns nil at once.
func (h *Hub) Drain(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.DrainTimeout)
	defer cancel()
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.draining = true
	if h.empty == nil {
		h.empty = make(chan struct{})
		if len(h.byID) == 0 {
			close(h.empty)
		}
	}
	empty := h.empty
	var socks []*socket
	for _, c := range h.byID {
		if c.sock != nil {
			socks = append(socks, c.sock)
		}
	}
	h.mu.Unlock()

	// Each close frame waits at most a second for a slow client: send
	// them side by side. The reader of each socket then detaches it from
	// its connection, which stays.
	var wg sync.WaitGroup
	for _, s := range socks {
		wg.Go(func() { s.closeWith(websocket.CloseGoingAway, "server is stopping") })
	}
	wg.Wait()

	select {
	case <-empty:
		return nil
	case <-ctx.Done():
		h.mu.RLock()
		left := len(h.byID)
		h.mu.RUnlock()
		return fmt.Errorf("ws: %d connections not taken by another node: %w", left, ctx.Err())
	}
}
