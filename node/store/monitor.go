package store

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// monitor probes the offline replicas of the current generation every
// SqlSettings.ReplicaMonitorIntervalSeconds and puts those that answer back
// in rotation, as Mattermost's monitorReplicas does. It reads the interval
// from the current generation before each wait, so a recycle that changes
// it takes effect after the wait in progress. It returns when ctx ends or
// the store is closed.
func (s *Store) monitor(ctx context.Context) {
	defer close(s.monitorDone)
	for {
		g, err := s.acquire()
		if err != nil {
			return
		}
		interval := g.monitorInterval
		g.release()

		timer := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		s.probeOffline(ctx)
	}
}

// probeOffline tries once to reach each offline replica of the current
// generation, in turn, and brings back those that answer. Each probe is
// bounded by the generation's probe timeout.
func (s *Store) probeOffline(ctx context.Context) {
	g, err := s.acquire()
	if err != nil {
		return
	}
	defer g.release()
	for _, p := range g.pools()[1:] {
		if p.online.Load() {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, g.probeTimeout())
		err := p.db.PingContext(pctx)
		cancel()
		p.probes.Add(1)
		if err != nil {
			continue
		}
		if p.setOnline() {
			s.logger.Info("Database replica reachable again; back in rotation", zap.String("data_source", p.setting))
		}
	}
}
