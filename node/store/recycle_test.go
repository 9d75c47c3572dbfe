package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/seed331fb32b/chorus/node/config"
)

// TestRecycleUnderLoad runs 8 goroutines of reads and writes while Recycle
// swaps the pools 10 times: no statement may fail, and every retired
// generation ends closed.
func TestRecycleUnderLoad(t *testing.T) {
	const (
		workers  = 8
		recycles = 10
	)
	for _, driver := range allDrivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			settings := testSettings(t, driver)
			settings.DataSourceReplicas = []string{settings.DataSource}
			s := openWith(t, settings)
			ctx := t.Context()
			channel := &Channel{ID: "recycled", Name: "recycled", Type: "O"}
			if err := s.Channels().Save(ctx, channel); err != nil {
				t.Fatal(err)
			}

			var (
				stop     atomic.Bool
				ops      atomic.Int64
				mu       sync.Mutex // guards failures
				failures []error
				wg       sync.WaitGroup
			)
			fail := func(err error) {
				mu.Lock()
				failures = append(failures, err)
				mu.Unlock()
			}
			for w := range workers {
				wg.Go(func() {
					for i := 0; i < 100_000 && !stop.Load(); i++ { // bounded; stopped long before
						var err error
						switch i % 4 {
						case 0:
							err = s.Posts().Save(ctx, &Post{ID: fmt.Sprintf("w%dp%d", w, i), ChannelID: channel.ID, CreateAt: int64(i)})
						case 1:
							_, err = s.Posts().GetPage(ctx, channel.ID, 0, 60)
						case 2:
							err = s.System().SaveOrUpdate(ctx, fmt.Sprint("worker", w), fmt.Sprint(i))
						case 3:
							_, err = s.Channels().Get(ctx, channel.ID)
						}
						if err != nil {
							fail(fmt.Errorf("worker %d op %d: %w", w, i, err))
						}
						ops.Add(1)
					}
				})
			}

			var retired []*generation
			for i := range recycles {
				// Let some work run on each generation before replacing it.
				target := ops.Load() + workers*4
				waitFor(t, "work on the current pools", func() bool { return ops.Load() >= target })
				retired = append(retired, s.gen.Load())
				if err := s.Recycle(ctx, settings); err != nil {
					t.Fatalf("Recycle %d: %v", i, err)
				}
			}
			stop.Store(true)
			wg.Wait()

			if len(failures) > 0 {
				t.Fatalf("%d of %d statements failed during %d recycles; first: %v", len(failures), ops.Load(), recycles, failures[0])
			}
			t.Logf("%d statements across %d recycles, none failed", ops.Load(), recycles)
			for i, g := range retired {
				if g == s.gen.Load() {
					t.Fatalf("generation %d is still current", i)
				}
				<-g.drained
				waitFor(t, fmt.Sprintf("generation %d closed", i), func() bool {
					return g.master.db.PingContext(ctx) != nil
				})
			}
		})
	}
}

// TestRecycleLetsStatementsInFlightFinish holds a read open on the old
// pools across a Recycle, half its rows read: it reads the rest on them
// afterwards, and only then are they closed.
func TestRecycleLetsStatementsInFlightFinish(t *testing.T) {
	for _, driver := range allDrivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			settings := testSettings(t, driver)
			s := openWith(t, settings)
			for _, name := range []string{"a", "b", "c", "d"} {
				if err := s.System().SaveOrUpdate(t.Context(), "inflight_"+name, name); err != nil {
					t.Fatal(err)
				}
			}
			old := s.gen.Load()

			reading, release := make(chan struct{}), make(chan struct{})
			readDone := make(chan error, 1)
			var values []string
			go func() {
				query := "SELECT Value FROM Systems WHERE Name LIKE 'inflight!_%' ESCAPE '!' ORDER BY Name"
				readDone <- s.run(t.Context(), toMaster, query, func(ctx context.Context, p *pool) error {
					rows, err := p.db.QueryContext(ctx, query)
					if err != nil {
						return err
					}
					defer rows.Close()
					for rows.Next() {
						var v string
						if err := rows.Scan(&v); err != nil {
							return err
						}
						values = append(values, v)
						if len(values) == 2 {
							close(reading)
							<-release
						}
					}
					return rows.Err()
				})
			}()
			<-reading

			// Recycle returns when ctx ends even though the old pools are
			// still busy; cancel it once the swap is visible.
			ctx, cancel := context.WithCancel(t.Context())
			recycled := make(chan error, 1)
			go func() { recycled <- s.Recycle(ctx, settings) }()
			waitFor(t, "the new pools", func() bool { return s.gen.Load() != old })
			cancel()
			if err := <-recycled; err != nil {
				t.Fatalf("Recycle: %v", err)
			}
			select {
			case <-old.drained:
				t.Fatal("the old pools drained while a read held them")
			default:
			}
			if err := s.System().SaveOrUpdate(t.Context(), "after", "recycle"); err != nil {
				t.Fatalf("write on the new pools: %v", err)
			}

			close(release)
			if err := <-readDone; err != nil {
				t.Fatalf("read across the recycle: %v", err)
			}
			if got := strings.Join(values, ""); got != "abcd" {
				t.Errorf("read across the recycle got %q, want \"abcd\"", got)
			}
			<-old.drained
			waitFor(t, "the old pools closed", func() bool { return old.master.db.PingContext(t.Context()) != nil })
		})
	}
}

// TestRecycleSwitchesMaster is the manual failover: the store is recycled
// onto another database (as after a config reload with a new DataSource),
// which it migrates, and every statement then goes there.
func TestRecycleSwitchesMaster(t *testing.T) {
	for _, driver := range allDrivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			first := testSettings(t, driver)
			second := testSettings(t, driver)
			s := openWith(t, first)
			ctx := t.Context()
			if err := s.System().SaveOrUpdate(ctx, "where", "first"); err != nil {
				t.Fatal(err)
			}
			if err := s.Recycle(ctx, second); err != nil {
				t.Fatalf("Recycle: %v", err)
			}
			if _, err := s.System().Get(ctx, "where"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get on the new master: err = %v, want ErrNotFound", err)
			}
			if err := s.System().SaveOrUpdate(ctx, "where", "second"); err != nil {
				t.Fatal(err)
			}
			other := openWith(t, first)
			if got, err := other.System().Get(ctx, "where"); err != nil || got != "first" {
				t.Errorf("the first database holds %q, %v; want \"first\" untouched", got, err)
			}
		})
	}
}

// TestRecycleErrorsKeepThePools checks that a Recycle that cannot build
// new pools changes nothing.
func TestRecycleErrorsKeepThePools(t *testing.T) {
	for _, driver := range []string{config.DriverPostgres, config.DriverMySQL} {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			settings := testSettings(t, driver)
			s := openWith(t, settings)
			before := s.gen.Load()

			tests := []struct {
				name   string
				modify func(*config.SqlSettings)
				want   string
			}{
				{"unreachable master", func(c *config.SqlSettings) { c.DataSource = unreachableDSN(driver) },
					"connecting to the master (SqlSettings.DataSource)"},
				{"empty search replica", func(c *config.SqlSettings) { c.DataSourceSearchReplicas = []string{""} },
					"SqlSettings.DataSourceSearchReplicas[0] is empty"},
				{"another driver", func(c *config.SqlSettings) { c.DriverName = config.DriverSQLite },
					"restart the node"},
			}
			for _, tt := range tests {
				bad := settings
				tt.modify(&bad)
				err := s.Recycle(t.Context(), bad)
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s: Recycle error %v, want one containing %q", tt.name, err, tt.want)
				}
				if err != nil && strings.Contains(err.Error(), "secret-pw") {
					t.Errorf("%s: error %q contains the password", tt.name, err)
				}
				if s.gen.Load() != before {
					t.Errorf("%s: a failed Recycle replaced the pools", tt.name)
				}
			}
			if err := s.System().SaveOrUpdate(t.Context(), "still", "works"); err != nil {
				t.Errorf("store after failed recycles: %v", err)
			}
		})
	}
}
