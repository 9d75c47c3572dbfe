package balancer

import (
	"strings"
	"testing"
	"time"
)

func TestParseNode(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "127.0.0.1:8065", want: "127.0.0.1:8065"},
		{in: "http://10.10.10.2:8065", want: "10.10.10.2:8065"},
		{in: "http://10.10.10.2:8065/", want: "10.10.10.2:8065"},
		{in: "[::1]:8065", want: "[::1]:8065"},
		{in: "app1.internal:8065", want: "app1.internal:8065"},
		{in: "127.0.0.1", wantErr: "want host:port"},
		{in: ":8065", wantErr: "missing host"},
		{in: "127.0.0.1:http", wantErr: "not a number"},
		{in: "127.0.0.1:70000", wantErr: "not a number"},
		{in: "https://10.0.0.1:8065", wantErr: "scheme"},
		{in: "http://10.0.0.1:8065/mattermost", wantErr: "no path"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseNode(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseNode(%q) = %q, %v; want error with %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseNode(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestValidateNamesTheSetting(t *testing.T) {
	valid := DefaultConfig()
	valid.Nodes = []string{"127.0.0.1:8065"}
	if err := valid.Validate(); err != nil {
		t.Fatalf("default config with one node: %v", err)
	}
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no nodes", func(c *Config) { c.Nodes = nil }, "nodes"},
		{"duplicate node", func(c *Config) { c.Nodes = append(c.Nodes, c.Nodes[0]) }, "twice"},
		{"bad node", func(c *Config) { c.Nodes = []string{"nohost"} }, "nohost"},
		{"relative health uri", func(c *Config) { c.HealthURI = "ping" }, "health_uri"},
		{"zero interval", func(c *Config) { c.HealthInterval = 0 }, "health_interval"},
		{"zero timeout", func(c *Config) { c.HealthTimeout = 0 }, "health_timeout"},
		{"zero passes", func(c *Config) { c.HealthPasses = 0 }, "health_passes"},
		{"zero fails", func(c *Config) { c.HealthFails = 0 }, "health_fails"},
		{"zero body", func(c *Config) { c.MaxBody = 0 }, "max_body"},
		{"negative try duration", func(c *Config) { c.TryDuration = -time.Second }, "try_duration"},
		{"negative slow start", func(c *Config) { c.SlowStart = -time.Second }, "slow_start"},
		{"negative drain grace", func(c *Config) { c.DrainGrace = -time.Second }, "drain_grace"},
		{"negative drain spread", func(c *Config) { c.DrainSpread = -time.Second }, "drain_spread"},
		{"zero passive fails", func(c *Config) { c.PassiveFails = 0 }, "passive_fails"},
		{"empty cluster name", func(c *Config) { c.Cluster = "" }, "cluster"},
		{"gossip without join address", func(c *Config) { g := DefaultGossipConfig(); c.Gossip = &g }, "join address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid
			c.Nodes = append([]string(nil), valid.Nodes...)
			tt.change(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v; want an error naming %q", err, tt.want)
			}
		})
	}
}

func TestProbeURIAddsServerStatus(t *testing.T) {
	tests := []struct {
		uri    string
		status bool
		want   string
	}{
		{PingPath, false, PingPath},
		{PingPath, true, PingPath + "?get_server_status=true"},
		{PingPath + "?x=1", true, PingPath + "?x=1&get_server_status=true"},
	}
	for _, tt := range tests {
		c := DefaultConfig()
		c.HealthURI, c.ServerStatus = tt.uri, tt.status
		if got := c.ProbeURI(); got != tt.want {
			t.Errorf("ProbeURI(%q, %v) = %q; want %q", tt.uri, tt.status, got, tt.want)
		}
	}
}
