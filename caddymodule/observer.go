package caddymodule

import (
	"bytes"

	"go.uber.org/zap"

	"github.com/seed331fb32b/chorus/balancer"
)

// observer is a cluster's balancer.Observer: every state change is a log
// line through Caddy's logger, probes and forced closes feed the metrics.
type observer cluster

// StateChanged logs the change: at warn when a node leaves service
// (unhealthy, removed), at info otherwise.
func (o *observer) StateChanged(ch balancer.Change) {
	log := o.logger.Load()
	fields := []zap.Field{
		zap.String("cluster", ch.Cluster),
		zap.String("node", ch.Node),
		zap.String("from", ch.From.String()),
		zap.String("to", ch.To.String()),
		zap.String("reason", ch.Reason),
	}
	if ch.To == balancer.StateUnhealthy || (ch.To == balancer.StateRemoved && ch.From != balancer.StateDrained) {
		log.Warn("node state changed", fields...)
		return
	}
	log.Info("node state changed", fields...)
}

// Probed records the probe's latency; failures are logged at debug (the
// state change that follows enough of them is logged anyway).
func (o *observer) Probed(p balancer.Probe) {
	healthCheckDuration.WithLabelValues(p.Cluster, p.Node).Observe(p.Latency.Seconds())
	if !p.OK {
		o.logger.Load().Debug("health probe failed",
			zap.String("cluster", p.Cluster), zap.String("node", p.Node), zap.Int("status", p.Status), zap.String("error", p.Err))
	}
}

// StreamsClosed logs a drain's forced closes (the counter is read from the
// node at scrape time).
func (o *observer) StreamsClosed(cluster, node string, n int) {
	o.logger.Load().Info("drain closed websockets",
		zap.String("cluster", cluster), zap.String("node", node), zap.Int("count", n))
}

// gossipLog forwards memberlist's log lines to the cluster's logger at
// debug, and its warnings and errors at warn.
type gossipLog struct{ c *cluster }

func (g gossipLog) Write(p []byte) (int, error) {
	line := string(bytes.TrimSpace(p))
	log := g.c.logger.Load()
	if bytes.Contains(p, []byte("[ERR]")) || bytes.Contains(p, []byte("[WARN]")) {
		log.Warn("gossip", zap.String("cluster", g.c.name), zap.String("memberlist", line))
	} else {
		log.Debug("gossip", zap.String("cluster", g.c.name), zap.String("memberlist", line))
	}
	return len(p), nil
}

var _ balancer.Observer = (*observer)(nil)
