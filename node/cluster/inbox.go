package cluster

import (
	"slices"
	"sync"
	"time"
)

// gapWait is how long an inbox holds reliable frames behind a missing one
// before giving the missing one up. memberlist hands every TCP stream to
// its own goroutine, so two frames sent one after the other may be handed
// over in the other order, a few microseconds apart; a frame its sender
// could not write at all never comes.
const gapWait = 250 * time.Millisecond

// inbox delivers one sender's messages to the handlers in the order they
// were sent (reliable frames by their numbers; best-effort messages as
// they come), from its own goroutine, so memberlist's receive loops never
// wait on a handler and one slow sender does not hold up another.
type inbox struct {
	c    *Cluster
	from string

	mu       sync.Mutex // guards the fields below
	epoch    uint64     // the sender's epoch of the frames being ordered
	next     uint64     // the reliable frame number expected next; 0 before the first
	held     map[uint64][]Message
	ready    []Message   // in order, waiting for run
	gapTimer *time.Timer // running while held is not empty
	gapGen   uint64      // numbers gap timers, so a stale one that fired does nothing
	closing  bool        // the sender left: deliver what is ready, then end
	lastUsed time.Time   // when a frame last arrived

	wake chan struct{} // has a value when ready may be non-empty, or closing
	done chan struct{} // closed when run has returned
}

func newInbox(c *Cluster, from string) *inbox {
	return &inbox{c: c, from: from, held: map[uint64][]Message{}, wake: make(chan struct{}, 1), done: make(chan struct{}), lastUsed: time.Now()}
}

// push accepts a frame from the network; it never blocks.
func (in *inbox) push(f frame) {
	in.mu.Lock()
	in.lastUsed = time.Now()
	switch {
	case f.Seq == 0: // best effort
		in.ready = append(in.ready, f.Msgs...)
	case f.Epoch < in.epoch:
		// A late frame of the sender's previous stream to us: deliver it
		// rather than lose it.
		in.ready = append(in.ready, f.Msgs...)
	case f.Epoch > in.epoch:
		// The sender restarted its stream to us (it saw us leave and come
		// back): what it held of the old one goes first.
		in.flushHeldLocked()
		in.epoch, in.next = f.Epoch, 1
		fallthrough
	default:
		in.acceptLocked(f)
	}
	in.mu.Unlock()
	in.signal()
}

// acceptLocked orders a reliable frame of the current epoch.
func (in *inbox) acceptLocked(f frame) {
	switch {
	case f.Seq < in.next:
		return // a duplicate of a frame given up on or delivered
	case f.Seq > in.next:
		in.held[f.Seq] = f.Msgs
	default:
		in.ready = append(in.ready, f.Msgs...)
		in.next++
		for {
			msgs, ok := in.held[in.next]
			if !ok {
				break
			}
			delete(in.held, in.next)
			in.ready = append(in.ready, msgs...)
			in.next++
		}
	}
	switch {
	case len(in.held) == 0 && in.gapTimer != nil:
		in.stopGapTimerLocked()
	case len(in.held) > 0 && in.gapTimer == nil:
		in.gapGen++
		gen := in.gapGen
		in.gapTimer = time.AfterFunc(gapWait, func() { in.giveUpGap(gen) })
	}
}

// stopGapTimerLocked stops the gap timer; if it fired already, its
// giveUpGap finds its generation outdated.
func (in *inbox) stopGapTimerLocked() {
	in.gapTimer.Stop()
	in.gapTimer = nil
	in.gapGen++
}

// giveUpGap skips the missing frame(s) before the first one held, unless
// timer gen was stopped meanwhile.
func (in *inbox) giveUpGap(gen uint64) {
	in.mu.Lock()
	if gen != in.gapGen || in.gapTimer == nil {
		in.mu.Unlock()
		return
	}
	in.gapTimer = nil
	if len(in.held) > 0 {
		seqs := make([]uint64, 0, len(in.held))
		for s := range in.held {
			seqs = append(seqs, s)
		}
		first := slices.Min(seqs)
		msgs := in.held[first]
		delete(in.held, first)
		in.next = first
		in.acceptLocked(frame{Seq: first, Msgs: msgs})
	}
	in.mu.Unlock()
	in.signal()
}

// flushHeldLocked moves every held frame to ready, in order.
func (in *inbox) flushHeldLocked() {
	seqs := make([]uint64, 0, len(in.held))
	for s := range in.held {
		seqs = append(seqs, s)
	}
	slices.Sort(seqs)
	for _, s := range seqs {
		in.ready = append(in.ready, in.held[s]...)
	}
	clear(in.held)
	if in.gapTimer != nil {
		in.stopGapTimerLocked()
	}
}

func (in *inbox) signal() {
	select {
	case in.wake <- struct{}{}:
	default:
	}
}

// close makes run deliver what is ready (and held) and return.
func (in *inbox) close() {
	in.mu.Lock()
	in.flushHeldLocked()
	in.closing = true
	in.mu.Unlock()
	in.signal()
}

// idleSince reports when a frame last arrived.
func (in *inbox) idleSince() time.Time {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.lastUsed
}

// run hands messages to the cluster's dispatch until closed or the
// cluster stops.
func (in *inbox) run() {
	defer close(in.done)
	for {
		select {
		case <-in.wake:
		case <-in.c.ctx.Done():
			return
		}
		in.mu.Lock()
		msgs, closing := in.ready, in.closing
		in.ready = nil
		in.mu.Unlock()
		for _, m := range msgs {
			if in.c.ctx.Err() != nil {
				return
			}
			in.c.dispatch(in.from, m)
		}
		if closing {
			return
		}
	}
}
