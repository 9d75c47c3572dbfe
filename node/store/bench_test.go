package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed331fb32b/chorus/node/config"
	"github.com/seed331fb32b/chorus/node/store/internal/testdb"
)

// Benchmarks of the store on each driver. Each reports, besides ns/op,
// x-roundtrip: its time per operation divided by one "SELECT 1" round trip
// to the same database measured in the same run, an anchor that makes the
// figures comparable across machines.
//
//	go test -run '^$' -bench . ./node/store/

// benchStore opens a store on a fresh database of driver for b.
func benchStore(b *testing.B, settings config.SqlSettings) *Store {
	b.Helper()
	s, err := Open(b.Context(), settings, nil)
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// roundTrip measures the anchor: the mean time of "SELECT 1" on the
// store's master pool.
func roundTrip(b *testing.B, s *Store) time.Duration {
	b.Helper()
	const n = 300
	db := s.gen.Load().master.db
	var one int
	start := time.Now()
	for range n {
		if err := db.QueryRowContext(b.Context(), "SELECT 1").Scan(&one); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start) / n
}

// reportRatio reports the benchmark's time per operation against anchor.
func reportRatio(b *testing.B, anchor time.Duration) {
	if b.N > 0 && anchor > 0 {
		b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(anchor), "x-roundtrip")
	}
}

// seedChannel saves a channel with n posts, one millisecond apart.
func seedChannel(b *testing.B, s *Store, n int) *Channel {
	b.Helper()
	c := &Channel{ID: "benchchannel", Name: "bench", Type: "O"}
	if err := s.Channels().Save(b.Context(), c); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		p := &Post{ID: fmt.Sprintf("seed%022d", i), ChannelID: c.ID, UserID: "benchuser", CreateAt: int64(1_700_000_000_000 + i),
			Message: fmt.Sprintf("seed message number %d, about the length of a chat line", i), Props: "{}", FileIDs: "[]"}
		if err := s.Posts().Save(b.Context(), p); err != nil {
			b.Fatal(err)
		}
	}
	return c
}

// BenchmarkPostSave saves one post (insert plus the channel's counters, in
// one transaction) per operation.
func BenchmarkPostSave(b *testing.B) {
	for _, driver := range testdb.Drivers {
		b.Run(driver, func(b *testing.B) {
			s := benchStore(b, testdb.Settings(b, driver))
			c := seedChannel(b, s, 0)
			anchor := roundTrip(b, s)
			i := 0
			for b.Loop() {
				i++
				p := &Post{ID: fmt.Sprintf("post%022d", i), ChannelID: c.ID, UserID: "benchuser", CreateAt: int64(1_700_000_000_000 + i),
					Message: "a new message, about the length of a chat line", Props: "{}", FileIDs: "[]"}
				if err := s.Posts().Save(b.Context(), p); err != nil {
					b.Fatal(err)
				}
			}
			reportRatio(b, anchor)
		})
	}
}

// BenchmarkChannelPage reads the newest 60 posts of a channel of 1,000
// posts (GET /api/v4/channels/{id}/posts' first page).
func BenchmarkChannelPage(b *testing.B) {
	for _, driver := range testdb.Drivers {
		b.Run(driver, func(b *testing.B) {
			s := benchStore(b, testdb.Settings(b, driver))
			c := seedChannel(b, s, 1000)
			anchor := roundTrip(b, s)
			for b.Loop() {
				posts, err := s.Posts().GetPage(b.Context(), c.ID, 0, 60)
				if err != nil || len(posts) != 60 {
					b.Fatalf("GetPage = %d posts, %v", len(posts), err)
				}
			}
			reportRatio(b, anchor)
		})
	}
}

// BenchmarkReplicaReads reads a channel from parallel goroutines with two
// read replicas (the master's database under two more pools) and reports
// each replica's share of the reads, which round-robin should hold at 50%
// each, and the master's, which should be 0%.
func BenchmarkReplicaReads(b *testing.B) {
	for _, driver := range testdb.Drivers {
		b.Run(driver, func(b *testing.B) {
			settings := testdb.Settings(b, driver)
			settings.DataSourceReplicas = []string{settings.DataSource, settings.DataSource}
			s := benchStore(b, settings)
			c := seedChannel(b, s, 0)
			anchor := roundTrip(b, s)
			before := s.Stats()
			var failed atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					if _, err := s.Channels().Get(ctx, c.ID); err != nil {
						failed.Add(1)
					}
				}
			})
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d reads failed", n)
			}
			after := s.Stats()
			var total float64
			for i := range after {
				total += float64(after[i].Queries - before[i].Queries)
			}
			for i, st := range after {
				share := 100 * float64(st.Queries-before[i].Queries) / total
				name := string(st.Role)
				if st.Role != RoleMaster {
					name += fmt.Sprint(st.Index)
				}
				b.ReportMetric(share, name+"-%")
			}
			reportRatio(b, anchor)
		})
	}
}

// The anchor must not be optimised into something else.
var _ = sql.ErrNoRows
