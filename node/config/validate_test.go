package config

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(c *Config)
		want   []string // settings named in the error; nil means valid
	}{
		{name: "defaults are valid", modify: func(c *Config) {}},
		{name: "postgres with a DSN is valid", modify: func(c *Config) {
			c.SqlSettings.DriverName = DriverPostgres
			c.SqlSettings.DataSource = "postgres://u:p@db/mm"
		}},
		{name: "listen address with host and port zero is valid", modify: func(c *Config) {
			c.ServiceSettings.ListenAddress = "127.0.0.1:0"
		}},
		{name: "unknown driver", modify: func(c *Config) { c.SqlSettings.DriverName = "oracle" },
			want: []string{"SqlSettings.DriverName"}},
		{name: "driver names are case-sensitive", modify: func(c *Config) { c.SqlSettings.DriverName = "Postgres" },
			want: []string{"SqlSettings.DriverName"}},
		{name: "empty data source", modify: func(c *Config) { c.SqlSettings.DataSource = "" },
			want: []string{"SqlSettings.DataSource"}},
		{name: "listen address without port", modify: func(c *Config) { c.ServiceSettings.ListenAddress = "localhost" },
			want: []string{"ServiceSettings.ListenAddress"}},
		{name: "listen address with port out of range", modify: func(c *Config) { c.ServiceSettings.ListenAddress = ":70000" },
			want: []string{"ServiceSettings.ListenAddress"}},
		{name: "listen address with named port", modify: func(c *Config) { c.ServiceSettings.ListenAddress = ":http" },
			want: []string{"ServiceSettings.ListenAddress"}},
		{name: "empty listen address", modify: func(c *Config) { c.ServiceSettings.ListenAddress = "" },
			want: []string{"ServiceSettings.ListenAddress"}},
		{name: "cluster enabled without a name", modify: func(c *Config) { c.ClusterSettings.Enable = true },
			want: []string{"ClusterSettings.ClusterName"}},
		{name: "cluster name without enable is fine", modify: func(c *Config) { c.ClusterSettings.ClusterName = "x" }},
		{name: "every problem is reported at once", modify: func(c *Config) {
			c.SqlSettings.DriverName = "oracle"
			c.ServiceSettings.ListenAddress = "x"
			c.ClusterSettings.Enable = true
		}, want: []string{"SqlSettings.DriverName", "ServiceSettings.ListenAddress", "ClusterSettings.ClusterName"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.modify(cfg)
			err := cfg.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate succeeded, want an error")
			}
			for _, setting := range tt.want {
				if !strings.Contains(err.Error(), setting+":") {
					t.Errorf("error %q does not name %s", err, setting)
				}
			}
			var se *SettingError
			if !errors.As(err, &se) {
				t.Errorf("error %v has no *SettingError", err)
			}
		})
	}
}

func TestValidateChangesNothing(t *testing.T) {
	cfg := DefaultConfig()
	cfg.SqlSettings.DriverName = DriverMySQL
	cfg.SqlSettings.DataSource = ""
	cfg.ClusterSettings.Enable = true
	before := *cfg
	before.SqlSettings.DataSourceReplicas = slices.Clone(cfg.SqlSettings.DataSourceReplicas)
	_ = cfg.Validate()
	if !reflect.DeepEqual(*cfg, before) {
		t.Errorf("Validate changed the config to %+v", cfg)
	}
}
