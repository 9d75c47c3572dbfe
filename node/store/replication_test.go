package store

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/seed331fb32b/chorus/internal/testutil/pgcluster"
	"github.com/seed331fb32b/chorus/node/config"
)

// reader reads one channel in a loop until stopped, from its own goroutine,
// and records every failure: the caller of a store read must never see a
// replica's death.
type reader struct {
	stop     chan struct{}
	done     sync.WaitGroup
	reads    atomic.Int64
	mu       sync.Mutex // guards failures
	failures []error
}

func startReaders(t *testing.T, s *Store, channelID string, n int) *reader {
	r := &reader{stop: make(chan struct{})}
	for range n {
		r.done.Go(func() {
			for i := 0; i < 1_000_000; i++ { // bounded; stopped long before
				select {
				case <-r.stop:
					return
				default:
				}
				c, err := s.Channels().Get(t.Context(), channelID)
				if err == nil && c.ID != channelID {
					err = fmt.Errorf("read channel %q, want %q", c.ID, channelID)
				}
				if err != nil {
					r.mu.Lock()
					r.failures = append(r.failures, err)
					r.mu.Unlock()
				}
				r.reads.Add(1)
			}
		})
	}
	t.Cleanup(r.halt)
	return r
}

// halt stops the readers and waits for them; calling it again does nothing.
func (r *reader) halt() {
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	r.done.Wait()
}

func (r *reader) failed() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.failures...)
}

// TestReplicaFailover runs on a real PostgreSQL primary and streaming
// replica. With reads running in a loop, it stops the replica (no read
// fails: they move to the master), starts it again (reads return to it
// within two monitor intervals, counted in monitor probes, not time), and
// checks that a read in a WithMaster context right after a write sees the
// write while the replica's replay is paused, where a plain read does not.
func TestReplicaFailover(t *testing.T) {
	cluster := pgcluster.Start(t)
	settings := config.DefaultConfig().SqlSettings
	settings.DriverName = config.DriverPostgres
	settings.DataSource = cluster.PrimaryDSN()
	settings.DataSourceReplicas = []string{cluster.ReplicaDSN()}
	settings.ReplicaMonitorIntervalSeconds = 1
	settings.QueryTimeout = 10
	s := openWith(t, settings)
	ctx := t.Context()

	channel := &Channel{ID: "failoverchannel", Name: "failover", Type: "O"}
	if err := s.Channels().Save(ctx, channel); err != nil {
		t.Fatal(err)
	}
	cluster.WaitReplicated(t)
	readers := startReaders(t, s, channel.ID, 2)
	replicaQueries := func() int64 { return poolStats(t, s, RoleReplica, 0).Queries }
	masterQueries := func() int64 { return poolStats(t, s, RoleMaster, 0).Queries }

	waitFor(t, "reads on the replica", func() bool { return replicaQueries() > 20 })

	t.Run("stopped replica: reads move to the master and none fails", func(t *testing.T) {
		cluster.StopReplica(t)
		waitFor(t, "the replica to be taken out of rotation", func() bool {
			return !poolStats(t, s, RoleReplica, 0).Online
		})
		onMaster := masterQueries()
		waitFor(t, "reads on the master", func() bool { return masterQueries() > onMaster+20 })
		if errs := readers.failed(); len(errs) > 0 {
			t.Fatalf("%d reads failed while the replica stopped; first: %v", len(errs), errs[0])
		}
	})

	t.Run("restarted replica: reads return within two monitor intervals", func(t *testing.T) {
		cluster.StartReplica(t)
		probes := poolStats(t, s, RoleReplica, 0).Probes
		waitFor(t, "the replica back in rotation", func() bool {
			return poolStats(t, s, RoleReplica, 0).Online
		})
		if got := poolStats(t, s, RoleReplica, 0).Probes - probes; got > 2 {
			t.Errorf("the replica came back after %d monitor probes, want at most 2", got)
		}
		onReplica := replicaQueries()
		waitFor(t, "reads on the replica again", func() bool { return replicaQueries() > onReplica+20 })
		if errs := readers.failed(); len(errs) > 0 {
			t.Fatalf("%d reads failed; first: %v", len(errs), errs[0])
		}
	})
	readers.halt()
	t.Logf("%d reads, none failed; pools: %+v", readers.reads.Load(), s.Stats())

	t.Run("WithMaster read right after a write sees it while replay is paused", func(t *testing.T) {
		cluster.WaitReplicated(t)
		cluster.PauseReplay(t)
		defer cluster.ResumeReplay(t)
		for i := range 20 {
			post := &Post{ID: fmt.Sprintf("afterwrite%02d", i), ChannelID: channel.ID, CreateAt: int64(i), Message: "fresh"}
			if err := s.Posts().Save(ctx, post); err != nil {
				t.Fatal(err)
			}
			got, err := s.Posts().Get(WithMaster(ctx), post.ID)
			if err != nil || got.Message != "fresh" {
				t.Fatalf("WithMaster read after write %d: %+v, %v", i, got, err)
			}
		}
		// The same read without WithMaster goes to the paused replica,
		// which has not seen the posts: the pause is real.
		if _, err := s.Posts().Get(ctx, "afterwrite00"); !errors.Is(err, ErrNotFound) {
			t.Errorf("plain read on the paused replica: err = %v, want ErrNotFound", err)
		}
	})
}
