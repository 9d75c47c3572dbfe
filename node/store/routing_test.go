package store

import (
	"context"
	"errors"
	"testing"

	"github.com/seed331fb32b/chorus/node/config"
)

// unreachableDSN is a data source of driver on a port nothing listens on.
func unreachableDSN(driver string) string {
	switch driver {
	case config.DriverPostgres:
		return "postgres://postgres:secret-pw@127.0.0.1:1/test?sslmode=disable&connect_timeout=2"
	case config.DriverMySQL:
		return "root:secret-pw@tcp(127.0.0.1:1)/test?timeout=2s"
	}
	return ""
}

// queriesBy returns the Queries counter of every pool, keyed by role and
// index ("master", "replica0", "search_replica1").
func queriesBy(s *Store) map[string]int64 {
	out := map[string]int64{}
	for _, st := range s.Stats() {
		key := string(st.Role)
		if st.Role != RoleMaster {
			key += string(rune('0' + st.Index))
		}
		out[key] = st.Queries
	}
	return out
}

// delta returns after minus before for every key of after.
func delta(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range after {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

func equalCounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestRouting checks where each kind of statement runs, with replicas that
// are the master's own database under other pools: the counters tell the
// pools apart.
func TestRouting(t *testing.T) {
	for _, driver := range allDrivers {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			settings := testSettings(t, driver)
			settings.DataSourceReplicas = []string{settings.DataSource, settings.DataSource}
			settings.DataSourceSearchReplicas = []string{settings.DataSource, settings.DataSource}
			s := openWith(t, settings)
			ctx := t.Context()
			channel := &Channel{ID: "c1", Name: "town-square", Type: "O"}

			tests := []struct {
				name string
				do   func() error
				want map[string]int64
			}{
				{"a write goes to the master",
					func() error { return s.Channels().Save(ctx, channel) },
					map[string]int64{"master": 1}},
				{"a transaction goes to the master as one",
					func() error { return s.Posts().Save(ctx, &Post{ID: "p1", ChannelID: channel.ID}) },
					map[string]int64{"master": 1}},
				{"reads alternate over the replicas",
					func() error {
						for range 10 {
							if _, err := s.Channels().Get(ctx, channel.ID); err != nil {
								return err
							}
						}
						return nil
					},
					map[string]int64{"replica0": 5, "replica1": 5}},
				{"a read with WithMaster goes to the master",
					func() error { _, err := s.Posts().Get(WithMaster(ctx), "p1"); return err },
					map[string]int64{"master": 1}},
				{"searches alternate over the search replicas",
					func() error {
						for range 4 {
							if _, err := s.Users().Search(ctx, "a", 10); err != nil {
								return err
							}
						}
						return nil
					},
					map[string]int64{"search_replica0": 2, "search_replica1": 2}},
				{"a search with WithMaster goes to the master",
					func() error { _, err := s.Users().Search(WithMaster(ctx), "a", 10); return err },
					map[string]int64{"master": 1}},
				{"Systems reads go to the master",
					func() error { _, err := s.System().Get(ctx, SchemaVersionKey); return err },
					map[string]int64{"master": 1}},
				{"a read that finds nothing is not retried",
					func() error {
						if _, err := s.Posts().Get(ctx, "missing"); !errors.Is(err, ErrNotFound) {
							return err
						}
						return nil
					},
					map[string]int64{"replica0": 1}},
			}
			for _, tt := range tests {
				before := queriesBy(s)
				if err := tt.do(); err != nil {
					t.Fatalf("%s: %v", tt.name, err)
				}
				if got := delta(before, queriesBy(s)); !equalCounts(got, tt.want) {
					t.Errorf("%s: queries per pool = %v, want %v", tt.name, got, tt.want)
				}
			}
		})
	}
}

// TestSearchFallback checks that searches fall back to the read replicas,
// then to the master, as Mattermost's GetSearchReplica does.
func TestSearchFallback(t *testing.T) {
	tests := []struct {
		name           string
		replicas       int
		searchReplicas int
		want           map[string]int64
	}{
		{"no search replicas: the read replicas", 2, 0, map[string]int64{"replica0": 1, "replica1": 1}},
		{"no replicas at all: the master", 0, 0, map[string]int64{"master": 2}},
		{"search replicas only: the search replicas", 0, 1, map[string]int64{"search_replica0": 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settings := testSettings(t, config.DriverSQLite)
			for range tt.replicas {
				settings.DataSourceReplicas = append(settings.DataSourceReplicas, settings.DataSource)
			}
			for range tt.searchReplicas {
				settings.DataSourceSearchReplicas = append(settings.DataSourceSearchReplicas, settings.DataSource)
			}
			s := openWith(t, settings)
			before := queriesBy(s)
			for range 2 {
				if _, err := s.Users().Search(t.Context(), "x", 5); err != nil {
					t.Fatal(err)
				}
			}
			if got := delta(before, queriesBy(s)); !equalCounts(got, tt.want) {
				t.Errorf("queries per pool = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestUnreachableReplicaStartsOffline opens a store whose second read
// replica and only search replica refuse connections: Open succeeds,
// they are offline, reads go to the reachable replica and searches fall
// back to it, and the monitor keeps probing them.
func TestUnreachableReplicaStartsOffline(t *testing.T) {
	for _, driver := range []string{config.DriverPostgres, config.DriverMySQL} {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			settings := testSettings(t, driver)
			settings.DataSourceReplicas = []string{settings.DataSource, unreachableDSN(driver)}
			settings.DataSourceSearchReplicas = []string{unreachableDSN(driver)}
			settings.ReplicaMonitorIntervalSeconds = 1
			s := openWith(t, settings)

			if st := poolStats(t, s, RoleReplica, 0); !st.Online {
				t.Errorf("reachable replica is offline: %+v", st)
			}
			for _, st := range []PoolStats{poolStats(t, s, RoleReplica, 1), poolStats(t, s, RoleSearchReplica, 0)} {
				if st.Online {
					t.Errorf("unreachable %s %d is online", st.Role, st.Index)
				}
			}
			before := queriesBy(s)
			for range 4 {
				if _, err := s.Users().Get(t.Context(), "nobody"); !errors.Is(err, ErrNotFound) {
					t.Fatalf("Get: %v", err)
				}
				if _, err := s.Users().Search(t.Context(), "a", 1); err != nil {
					t.Fatalf("Search: %v", err)
				}
			}
			if got, want := delta(before, queriesBy(s)), map[string]int64{"replica0": 8}; !equalCounts(got, want) {
				t.Errorf("queries per pool = %v, want %v", got, want)
			}
			waitFor(t, "two probes of the unreachable search replica", func() bool {
				return poolStats(t, s, RoleSearchReplica, 0).Probes >= 2
			})
			if st := poolStats(t, s, RoleSearchReplica, 0); st.Online {
				t.Errorf("unreachable search replica came online: %+v", st)
			}
		})
	}
}

// TestOpenReplicaSettingErrors checks that a replica DSN that cannot be
// used fails Open, naming the setting and hiding the password.
func TestOpenReplicaSettingErrors(t *testing.T) {
	const password = "s3cr3t-Pa55"
	tests := []struct {
		name   string
		driver string
		modify func(s *config.SqlSettings)
		want   string
	}{
		{"empty replica", config.DriverSQLite,
			func(s *config.SqlSettings) { s.DataSourceReplicas = []string{s.DataSource, ""} },
			"SqlSettings.DataSourceReplicas[1] is empty"},
		{"malformed postgres search replica", config.DriverPostgres,
			func(s *config.SqlSettings) {
				s.DataSourceSearchReplicas = []string{"postgres://u:" + password + "@127.0.0.1:notaport/x"}
			},
			"parsing SqlSettings.DataSourceSearchReplicas[0]"},
		{"malformed mysql replica", config.DriverMySQL,
			func(s *config.SqlSettings) {
				s.DataSourceReplicas = []string{"u:" + password + "@tcp(127.0.0.1:1)/x?parseTime=maybe"}
			},
			"parsing SqlSettings.DataSourceReplicas[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settings := testSettings(t, tt.driver)
			tt.modify(&settings)
			s, err := Open(t.Context(), settings, nil)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if !contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if contains(err.Error(), password) {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
}

// TestContextWithMaster checks the marker survives derived contexts.
func TestContextWithMaster(t *testing.T) {
	ctx := context.Background()
	if UsesMaster(ctx) {
		t.Error("a plain context uses the master")
	}
	derived, cancel := context.WithCancel(WithMaster(ctx))
	defer cancel()
	if !UsesMaster(derived) {
		t.Error("a context derived from WithMaster does not use the master")
	}
}
