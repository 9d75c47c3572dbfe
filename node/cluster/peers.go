package cluster

import (
	"encoding/json"
	"errors"
	"sync"
	"time"

	"go.uber.org/zap"
)

// outMsg is one marshalled message waiting for one peer.
type outMsg struct {
	raw      json.RawMessage // the Message as JSON, shared by every peer it goes to
	reliable bool
}

// peer sends this node's messages to one other live app node, in the
// order they were queued, from its own goroutine, so a sender never waits
// on the network. Reliable messages queued together travel in one frame
// (one TCP stream); best-effort ones in datagrams of up to
// Config.MaxBestEffortSize bytes.
type peer struct {
	c     *Cluster
	id    string // the peer's node id (member name)
	epoch uint64 // distinguishes this sender from an earlier one to the same peer

	mu    sync.Mutex // guards queue
	queue []outMsg
	wake  chan struct{} // has a value when queue may be non-empty
	stop  chan struct{} // closed when the peer left or the cluster stops
	done  chan struct{} // closed when run has returned

	seq uint64 // last reliable frame's number; run's own
}

// maxFrameBytes bounds one reliable frame; a larger backlog goes in
// several, in order.
const maxFrameBytes = 1 << 20

// sendAttempts is how many times a reliable frame is tried while its peer
// is still a member.
const sendAttempts = 3

func newPeer(c *Cluster, id string, epoch uint64) *peer {
	return &peer{c: c, id: id, epoch: epoch, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
}

// enqueue queues m, or drops it when the peer's queue is full; it never
// blocks.
func (p *peer) enqueue(m outMsg) {
	p.mu.Lock()
	if len(p.queue) >= p.c.cfg.SendQueueSize {
		p.mu.Unlock()
		p.c.dropped(p.id, "its send queue is full")
		return
	}
	p.queue = append(p.queue, m)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// take removes and returns everything queued.
func (p *peer) take() []outMsg {
	p.mu.Lock()
	defer p.mu.Unlock()
	q := p.queue
	p.queue = nil
	return q
}

// run sends until the peer leaves or the cluster stops. It waits for the
// gossip to be up, since members may appear while it starts.
func (p *peer) run() {
	defer close(p.done)
	select {
	case <-p.c.ready:
	case <-p.stop:
		return
	}
	for {
		select {
		case <-p.stop:
			return
		case <-p.wake:
		}
		for {
			batch := p.take()
			if len(batch) == 0 {
				break
			}
			p.send(batch)
		}
	}
}

// send writes one batch: best-effort messages first packed into
// datagrams, reliable ones in frames.
func (p *peer) send(batch []outMsg) {
	var reliable, datagram []json.RawMessage
	size := 0
	flush := func() {
		if len(datagram) > 0 {
			if err := p.c.g.sendBestEffort(p.id, encodeFrame(p.c.cfg.NodeID, 0, 0, datagram)); err != nil {
				p.c.log.Debug("Best-effort message to a node lost", zap.String("node_id", p.id), zap.Error(err))
			}
			datagram, size = datagram[:0], 0
		}
	}
	for _, m := range batch {
		if m.reliable {
			reliable = append(reliable, m.raw)
			continue
		}
		if size+len(m.raw)+64 > p.c.cfg.MaxBestEffortSize {
			flush()
		}
		datagram = append(datagram, m.raw)
		size += len(m.raw) + 1
	}
	flush()
	for len(reliable) > 0 {
		n, size := 0, 0
		for n < len(reliable) && (n == 0 || size+len(reliable[n]) < maxFrameBytes) {
			size += len(reliable[n]) + 1
			n++
		}
		p.seq++
		p.sendReliable(encodeFrame(p.c.cfg.NodeID, p.epoch, p.seq, reliable[:n]), n)
		reliable = reliable[n:]
	}
}

// sendReliable writes one frame of n messages over TCP, trying again a
// few times while the peer is still a member. A frame that cannot be
// written is dropped: the receiver skips its number after a short wait.
func (p *peer) sendReliable(b []byte, n int) {
	var err error
	for attempt := 1; attempt <= sendAttempts; attempt++ {
		if err = p.c.g.sendReliable(p.id, b); err == nil || errors.Is(err, errNoMember) {
			break
		}
		t := time.NewTimer(time.Duration(attempt) * 20 * time.Millisecond)
		select {
		case <-p.stop:
			t.Stop()
			attempt = sendAttempts
		case <-t.C:
		}
	}
	if err != nil {
		for range n {
			p.c.dropped(p.id, err.Error())
		}
	}
}

// close stops the sender; what is still queued is dropped.
func (p *peer) close() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
}
