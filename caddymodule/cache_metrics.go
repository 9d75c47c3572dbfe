package caddymodule

import (
	"errors"

	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// cacheMetrics is package-level because it must outlive a reload: each
// config's metrics registry is new, and it is registered into each
// (tolerating AlreadyRegisteredError), as Caddy's own reverse_proxy
// metrics are. It reads the caches' counters at scrape time, so serving a
// request costs no metric update beyond the cache's own atomic counters.
var cacheMetrics = &cacheCollector{
	requests:  prometheus.NewDesc("chorus_cache_requests_total", "Responses of the chorus_cache handlers by result: hit (also a request that waited for another's fill), miss, stale, bypass.", []string{"cache", "result"}, nil),
	evictions: prometheus.NewDesc("chorus_cache_evictions_total", "Keys removed: size (to stay within max_size), inactive, purge (the admin API or an unsafe method).", []string{"cache", "reason"}, nil),
	bytes:     prometheus.NewDesc("chorus_cache_bytes", "Bytes held (bodies, header fields, per-key overhead), at most max_size.", []string{"cache"}, nil),
	maxBytes:  prometheus.NewDesc("chorus_cache_max_bytes", "The cache's max_size.", []string{"cache"}, nil),
	entries:   prometheus.NewDesc("chorus_cache_entries", "Stored responses.", []string{"cache"}, nil),
	keys:      prometheus.NewDesc("chorus_cache_keys", "Keys known: stored, counting uses for min_uses, or marked hit-for-pass.", []string{"cache"}, nil),
	waiting:   prometheus.NewDesc("chorus_cache_lock_waiting", "Requests waiting on a fill now.", []string{"cache"}, nil),
}

// registerCacheMetrics registers the collector into the config's registry.
func registerCacheMetrics(ctx caddy.Context) {
	reg := ctx.GetMetricsRegistry()
	if reg == nil {
		return
	}
	if err := reg.Register(cacheMetrics); err != nil {
		var already prometheus.AlreadyRegisteredError
		if !errors.As(err, &already) {
			ctx.Logger().Warn("registering chorus_cache metrics", zap.Error(err))
		}
	}
}

// cacheCollector exports every loaded cache's counters. Caches of one name
// (during a reload that changes its settings, the old and the new) are
// summed, so each label set is collected once.
type cacheCollector struct {
	requests, evictions, bytes, maxBytes, entries, keys, waiting *prometheus.Desc
}

func (c *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.requests, c.evictions, c.bytes, c.maxBytes, c.entries, c.keys, c.waiting} {
		ch <- d
	}
}

func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	type sums struct {
		hits, misses, stale, bypass, evicted, expired, purged float64
		bytes, maxBytes, entries, keys, waiting               float64
	}
	byName := map[string]*sums{}
	for _, inst := range cachesNamed("") {
		s := byName[inst.name]
		if s == nil {
			s = &sums{}
			byName[inst.name] = s
		}
		st := inst.cache.Stats()
		s.hits += float64(st.Hits)
		s.misses += float64(st.Misses)
		s.stale += float64(st.Stale)
		s.bypass += float64(st.Bypass)
		s.evicted += float64(st.Evicted)
		s.expired += float64(st.Expired)
		s.purged += float64(st.Purged)
		s.bytes += float64(st.Bytes)
		s.maxBytes += float64(inst.cache.Config().MaxSize)
		s.entries += float64(st.Entries)
		s.keys += float64(st.Keys)
		s.waiting += float64(st.Waiting)
	}
	for name, s := range byName {
		counter := func(d *prometheus.Desc, v float64, label string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, name, label)
		}
		gauge := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, name)
		}
		counter(c.requests, s.hits, "hit")
		counter(c.requests, s.misses, "miss")
		counter(c.requests, s.stale, "stale")
		counter(c.requests, s.bypass, "bypass")
		counter(c.evictions, s.evicted, "size")
		counter(c.evictions, s.expired, "inactive")
		counter(c.evictions, s.purged, "purge")
		gauge(c.bytes, s.bytes)
		gauge(c.maxBytes, s.maxBytes)
		gauge(c.entries, s.entries)
		gauge(c.keys, s.keys)
		gauge(c.waiting, s.waiting)
	}
}

// Interface guard.
var _ prometheus.Collector = (*cacheCollector)(nil)
