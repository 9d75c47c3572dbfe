package cluster

import (
	"sync"
	"time"
)

// clocks holds this node's estimate of every other node's clock offset,
// measured over the gossip's own probes: an ack carries the acking node's
// clock (remote), read when the ack was sent; the prober receives it rtt
// after sending the ping, so the ack was sent at about now - rtt/2 on the
// prober's clock, and
//
//	offset = remote - (now - rtt/2)
//
// is how far the other clock is ahead of ours, with an error of at most
// rtt/2 (well under a millisecond on a LAN). Samples are smoothed (each
// moves the estimate a quarter of the way) so one delayed ack does not
// flag a skew. Mattermost asks operators to run NTP so posts made on
// different nodes are ordered; this tells them when they did not.
type clocks struct {
	mu sync.Mutex // guards m
	m  map[string]clockEstimate
}

// clockEstimate is the offset of one node's clock to ours.
type clockEstimate struct {
	offset time.Duration // positive: the other clock is ahead
	rtt    time.Duration // of the last sample
	at     time.Time     // when the last sample arrived, on our clock
}

// clockSmoothing is the weight of a new sample.
const clockSmoothing = 0.25

func newClocks() *clocks { return &clocks{m: map[string]clockEstimate{}} }

// sample records one ack from node that took rtt, carrying remoteNanos
// (the other clock, Unix nanoseconds), received at now.
func (c *clocks) sample(node string, rtt time.Duration, remoteNanos int64, now time.Time) {
	offset := time.Duration(remoteNanos-now.UnixNano()) + rtt/2
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[node]; ok {
		offset = e.offset + time.Duration(clockSmoothing*float64(offset-e.offset))
	}
	c.m[node] = clockEstimate{offset: offset, rtt: rtt, at: now}
}

// get returns the estimate for node, if any sample arrived.
func (c *clocks) get(node string) (clockEstimate, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[node]
	return e, ok
}

// forget drops a node that left.
func (c *clocks) forget(node string) {
	c.mu.Lock()
	delete(c.m, node)
	c.mu.Unlock()
}
