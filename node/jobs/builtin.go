package jobs

import (
	"context"
	"strconv"
	"time"

	"github.com/seed331fb32b/chorus/node/config"
	"github.com/seed331fb32b/chorus/node/store"
)

// Job types of the built-in jobs. data_retention is Mattermost's
// model.JobTypeDataRetention; the other two are Chorus's (Mattermost
// cleans sessions and discovery rows outside its job server).
const (
	TypeExpiredSessions  = "expired_sessions_cleanup"
	TypeClusterDiscovery = "cluster_discovery_cleanup"
	TypeDataRetention    = "data_retention"
)

// Intervals of the built-in jobs.
const (
	ExpiredSessionsInterval  = time.Hour      // a token is useless once expired; the row is only clutter
	ClusterDiscoveryInterval = time.Hour      // rows are ignored after 30 minutes anyway
	DataRetentionInterval    = 24 * time.Hour // Mattermost runs it once a day
)

// sessionBatch is how many sessions one delete removes.
const sessionBatch = 1000

// SessionCleaner deletes expired sessions (node/store's *SessionStore
// satisfies it).
type SessionCleaner interface {
	DeleteExpired(ctx context.Context, before int64, limit int) (int64, error)
}

// ExpiredSessionsCleanup is the job deleting the sessions that expired,
// in batches.
func ExpiredSessionsCleanup(sessions SessionCleaner) Job {
	return Job{
		Type:     TypeExpiredSessions,
		Interval: ExpiredSessionsInterval,
		Run: func(ctx context.Context, _ *store.Job) (map[string]string, error) {
			before := time.Now().UnixMilli()
			n, err := deleteInBatches(ctx, sessionBatch, 0, func(ctx context.Context, limit int) (int64, error) {
				return sessions.DeleteExpired(ctx, before, limit)
			})
			return map[string]string{"deleted": strconv.FormatInt(n, 10)}, err
		},
	}
}

// DiscoveryCleaner deletes stale ClusterDiscovery rows (node/store's
// *ClusterDiscoveryStore satisfies it).
type DiscoveryCleaner interface {
	Cleanup(ctx context.Context, before int64) (int64, error)
}

// ClusterDiscoveryCleanup is the job deleting ClusterDiscovery rows not
// refreshed for offlineAfter (Mattermost's 30 minutes), rows of nodes that
// died without removing theirs.
func ClusterDiscoveryCleanup(rows DiscoveryCleaner, offlineAfter time.Duration) Job {
	return Job{
		Type:     TypeClusterDiscovery,
		Interval: ClusterDiscoveryInterval,
		Run: func(ctx context.Context, _ *store.Job) (map[string]string, error) {
			n, err := rows.Cleanup(ctx, time.Now().Add(-offlineAfter).UnixMilli())
			return map[string]string{"deleted": strconv.FormatInt(n, 10)}, err
		},
	}
}

// PostPurger deletes old posts (node/store's *PostStore satisfies it).
type PostPurger interface {
	PermanentDeleteBefore(ctx context.Context, before int64, limit int) (int64, error)
}

// retentionPause is the pause between two delete batches, Mattermost's
// DataRetentionSettings.TimeBetweenBatchesMilliseconds default, so the
// deletion never hogs the database.
const retentionPause = 100 * time.Millisecond

// DataRetention is Mattermost's data retention job: while
// EnableMessageDeletion is on, it deletes the posts created more than
// MessageRetentionDays ago, BatchSize at a time. settings is read before
// each run, so a config reload applies to the next one.
func DataRetention(posts PostPurger, settings func() config.DataRetentionSettings) Job {
	return Job{
		Type:     TypeDataRetention,
		Interval: DataRetentionInterval,
		Enabled:  func() bool { return settings().EnableMessageDeletion },
		Run: func(ctx context.Context, _ *store.Job) (map[string]string, error) {
			s := settings()
			days, batch := s.MessageRetentionDays, s.BatchSize
			if days < 1 {
				days = 365
			}
			if batch < 1 {
				batch = 3000
			}
			before := time.Now().AddDate(0, 0, -days).UnixMilli()
			n, err := deleteInBatches(ctx, batch, retentionPause, func(ctx context.Context, limit int) (int64, error) {
				return posts.PermanentDeleteBefore(ctx, before, limit)
			})
			return map[string]string{
				"deleted":        strconv.FormatInt(n, 10),
				"retention_days": strconv.Itoa(days),
			}, err
		},
	}
}

// deleteInBatches calls del until it deletes fewer than batch rows,
// pausing between calls, and returns the total.
func deleteInBatches(ctx context.Context, batch int, pause time.Duration, del func(context.Context, int) (int64, error)) (int64, error) {
	var total int64
	for {
		n, err := del(ctx, batch)
		total += n
		if err != nil || n < int64(batch) {
			return total, err
		}
		if pause > 0 {
			t := time.NewTimer(pause)
			select {
			case <-ctx.Done():
				t.Stop()
				return total, ctx.Err()
			case <-t.C:
			}
		} else if ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}

// Interface guards: the node's real store satisfies what the jobs
// declare.
var (
	_ Store            = (*store.JobStore)(nil)
	_ SessionCleaner   = (*store.SessionStore)(nil)
	_ DiscoveryCleaner = (*store.ClusterDiscoveryStore)(nil)
	_ PostPurger       = (*store.PostStore)(nil)
)
