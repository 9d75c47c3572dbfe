package caddymodule

import (
	"errors"

	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/seed331fb32b/chorus/balancer"
)

// The collectors are package-level because they must outlive a reload:
// each config's metrics registry is new, and they are registered into each
// (tolerating AlreadyRegisteredError), as Caddy's own reverse_proxy
// metrics are.
var (
	healthCheckDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "chorus",
		Name:      "health_check_duration_seconds",
		Help:      "Latency of the front door's active health probes, per node.",
		Buckets:   []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"cluster", "node"})

	nodeCollector = &nodes{
		state:     prometheus.NewDesc("chorus_node_state", "1 for the node's current state, 0 for the others.", []string{"cluster", "node", "state"}, nil),
		healthy:   prometheus.NewDesc("chorus_node_healthy", "1 if the node's probes pass.", []string{"cluster", "node"}, nil),
		inFlight:  prometheus.NewDesc("chorus_node_requests_in_flight", "Requests in flight to the node, WebSockets not included.", []string{"cluster", "node"}, nil),
		ws:        prometheus.NewDesc("chorus_node_websockets", "WebSockets open through the node.", []string{"cluster", "node"}, nil),
		requests:  prometheus.NewDesc("chorus_node_requests_total", "Requests and WebSockets begun to the node.", []string{"cluster", "node"}, nil),
		forced:    prometheus.NewDesc("chorus_drain_forced_closes_total", "WebSockets closed by a drain of the node.", []string{"cluster", "node"}, nil),
		bytes:     prometheus.NewDesc("chorus_websocket_bytes_total", "Bytes tunnelled through the node's WebSockets; direction up is client to node.", []string{"cluster", "node", "direction"}, nil),
		slowStart: prometheus.NewDesc("chorus_node_slow_start_weight", "The node's slow-start share of new connections, 0 to 1.", []string{"cluster", "node"}, nil),
	}
)

// registerMetrics registers the collectors into the config's registry.
func registerMetrics(ctx caddy.Context) {
	reg := ctx.GetMetricsRegistry()
	if reg == nil {
		return
	}
	for _, c := range []prometheus.Collector{healthCheckDuration, nodeCollector} {
		if err := reg.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if !errors.As(err, &already) {
				ctx.Logger().Warn("registering chorus metrics", zap.Error(err))
			}
		}
	}
}

// nodes exports every loaded cluster's node states and counters, read at
// scrape time.
type nodes struct {
	state, healthy, inFlight, ws, requests, forced, bytes, slowStart *prometheus.Desc
}

func (n *nodes) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{n.state, n.healthy, n.inFlight, n.ws, n.requests, n.forced, n.bytes, n.slowStart} {
		ch <- d
	}
}

func (n *nodes) Collect(ch chan<- prometheus.Metric) {
	for _, c := range allClusters() {
		p := c.pool.Load()
		if p == nil {
			continue
		}
		for _, s := range p.Nodes() {
			for _, st := range balancer.States() {
				v := 0.0
				if st.String() == s.State {
					v = 1
				}
				ch <- prometheus.MustNewConstMetric(n.state, prometheus.GaugeValue, v, s.Cluster, s.Node, st.String())
			}
			ch <- prometheus.MustNewConstMetric(n.healthy, prometheus.GaugeValue, boolFloat(s.Healthy), s.Cluster, s.Node)
			ch <- prometheus.MustNewConstMetric(n.inFlight, prometheus.GaugeValue, float64(s.InFlight), s.Cluster, s.Node)
			ch <- prometheus.MustNewConstMetric(n.ws, prometheus.GaugeValue, float64(s.WebSockets), s.Cluster, s.Node)
			ch <- prometheus.MustNewConstMetric(n.requests, prometheus.CounterValue, float64(s.Requests), s.Cluster, s.Node)
			ch <- prometheus.MustNewConstMetric(n.forced, prometheus.CounterValue, float64(s.ForcedCloses), s.Cluster, s.Node)
			ch <- prometheus.MustNewConstMetric(n.bytes, prometheus.CounterValue, float64(s.BytesUp), s.Cluster, s.Node, "up")
			ch <- prometheus.MustNewConstMetric(n.bytes, prometheus.CounterValue, float64(s.BytesDown), s.Cluster, s.Node, "down")
			ch <- prometheus.MustNewConstMetric(n.slowStart, prometheus.GaugeValue, s.Weight, s.Cluster, s.Node)
		}
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
