package config

import (
	"slices"
	"testing"
)

// TestDefaultConfig pins the defaults the field docs promise, most of them
// Mattermost's.
func TestDefaultConfig(t *testing.T) {
	c := DefaultConfig()
	tests := []struct {
		setting   string
		got, want any
	}{
		{"ServiceSettings.SiteURL", c.ServiceSettings.SiteURL, ""},
		{"ServiceSettings.ListenAddress", c.ServiceSettings.ListenAddress, ":8065"},
		{"ServiceSettings.GoroutineHealthThreshold", c.ServiceSettings.GoroutineHealthThreshold, -1},
		{"ServiceSettings.SessionLengthWebInHours", c.ServiceSettings.SessionLengthWebInHours, 720},
		{"ServiceSettings.SessionCacheInMinutes", c.ServiceSettings.SessionCacheInMinutes, 10},
		{"ServiceSettings.MaximumPayloadSizeBytes", c.ServiceSettings.MaximumPayloadSizeBytes, 300000},
		{"ServiceSettings.MaximumLoginAttempts", c.ServiceSettings.MaximumLoginAttempts, 10},
		{"SqlSettings.DriverName", c.SqlSettings.DriverName, "sqlite"},
		{"SqlSettings.DataSource", c.SqlSettings.DataSource, "./data/chorus.db"},
		{"SqlSettings.DataSourceReplicas", len(c.SqlSettings.DataSourceReplicas), 0},
		{"SqlSettings.DataSourceSearchReplicas", len(c.SqlSettings.DataSourceSearchReplicas), 0},
		{"SqlSettings.MaxIdleConns", c.SqlSettings.MaxIdleConns, 20},
		{"SqlSettings.MaxOpenConns", c.SqlSettings.MaxOpenConns, 300},
		{"SqlSettings.ConnMaxLifetimeMilliseconds", c.SqlSettings.ConnMaxLifetimeMilliseconds, 3600000},
		{"SqlSettings.ConnMaxIdleTimeMilliseconds", c.SqlSettings.ConnMaxIdleTimeMilliseconds, 300000},
		{"SqlSettings.QueryTimeout", c.SqlSettings.QueryTimeout, 30},
		{"SqlSettings.ReplicaMonitorIntervalSeconds", c.SqlSettings.ReplicaMonitorIntervalSeconds, 5},
		{"SqlSettings.Trace", c.SqlSettings.Trace, false},
		{"ClusterSettings.Enable", c.ClusterSettings.Enable, false},
		{"ClusterSettings.ClusterName", c.ClusterSettings.ClusterName, ""},
		{"ClusterSettings.UseIPAddress", c.ClusterSettings.UseIPAddress, true},
		{"ClusterSettings.EnableGossipCompression", c.ClusterSettings.EnableGossipCompression, true},
		{"ClusterSettings.EnableGossipEncryption", c.ClusterSettings.EnableGossipEncryption, false},
		{"ClusterSettings.ReadOnlyConfig", c.ClusterSettings.ReadOnlyConfig, true},
		{"ClusterSettings.GossipPort", c.ClusterSettings.GossipPort, 8074},
		{"TeamSettings.EnableUserCreation", c.TeamSettings.EnableUserCreation, true},
		{"TeamSettings.EnableOpenServer", c.TeamSettings.EnableOpenServer, false},
		{"TeamSettings.UserStatusAwayTimeout", c.TeamSettings.UserStatusAwayTimeout, 300},
		{"EmailSettings.EnableSignUpWithEmail", c.EmailSettings.EnableSignUpWithEmail, true},
		{"EmailSettings.EnableSignInWithEmail", c.EmailSettings.EnableSignInWithEmail, true},
		{"EmailSettings.EnableSignInWithUsername", c.EmailSettings.EnableSignInWithUsername, true},
		{"PasswordSettings.MinimumLength", c.PasswordSettings.MinimumLength, 8},
		{"PasswordSettings.Lowercase", c.PasswordSettings.Lowercase, false},
	}
	for _, tt := range tests {
		t.Run(tt.setting, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("%s = %v, want %v", tt.setting, tt.got, tt.want)
			}
		})
	}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

func TestDefaultConfigReturnsFreshValues(t *testing.T) {
	a := DefaultConfig()
	a.SqlSettings.DataSourceReplicas = append(a.SqlSettings.DataSourceReplicas, "x")
	if b := DefaultConfig(); len(b.SqlSettings.DataSourceReplicas) != 0 {
		t.Errorf("a change to one DefaultConfig leaked into the next: %q", b.SqlSettings.DataSourceReplicas)
	}
}

func TestEnvOverridesReturnsACopy(t *testing.T) {
	c := &Config{envOverrides: []string{"SqlSettings.Trace"}}
	got := c.EnvOverrides()
	got[0] = "changed"
	if !slices.Equal(c.EnvOverrides(), []string{"SqlSettings.Trace"}) {
		t.Error("EnvOverrides exposes the config's own slice")
	}
}
