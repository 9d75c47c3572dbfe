package ws

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestNewValidates(t *testing.T) {
	deps := Deps{Auth: testAuth, Members: newTestMembers()}
	tests := []struct {
		name    string
		change  func(*Config, *Deps)
		wantErr string
	}{
		{name: "send queue too small", change: func(c *Config, _ *Deps) { c.SendQueueSize = 1 }, wantErr: "SendQueueSize"},
		{name: "no dead queue", change: func(c *Config, _ *Deps) { c.DeadQueueSize = 0 }, wantErr: "DeadQueueSize"},
		{name: "no write wait", change: func(c *Config, _ *Deps) { c.WriteWait = 0 }, wantErr: "WriteWait"},
		{name: "pong wait not above ping interval", change: func(c *Config, _ *Deps) { c.PongWait = c.PingInterval }, wantErr: "PongWait"},
		{name: "no ping interval", change: func(c *Config, _ *Deps) { c.PingInterval = 0 }, wantErr: "PingInterval"},
		{name: "no auth timeout", change: func(c *Config, _ *Deps) { c.AuthTimeout = 0 }, wantErr: "AuthTimeout"},
		{name: "no inactive timeout", change: func(c *Config, _ *Deps) { c.InactiveTimeout = -time.Second }, wantErr: "InactiveTimeout"},
		{name: "no read limit", change: func(c *Config, _ *Deps) { c.ReadLimit = 0 }, wantErr: "ReadLimit"},
		{name: "no authenticator", change: func(_ *Config, d *Deps) { d.Auth = nil }, wantErr: "Auth"},
		{name: "no membership", change: func(_ *Config, d *Deps) { d.Members = nil }, wantErr: "Members"},
		{name: "defaults are valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, d := DefaultConfig(), deps
			if tt.change != nil {
				tt.change(&cfg, &d)
			}
			h, err := New(cfg, d)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				_ = h.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New: %v, want an error naming %s", err, tt.wantErr)
			}
		})
	}
}

func TestCloseEndsSocketsAndRefusesNewOnes(t *testing.T) {
	e := newTestEnv(t)
	a, _ := e.connect(t, "alice")
	waiting := e.dial(t, dialOpts{}) // not authenticated yet
	if err := e.hub.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client{a, waiting} {
		if err := c.expectClosed(nil); err == nil {
			t.Fatal("socket still open after Close")
		}
	}
	if err := e.hub.Publish(context.Background(), Event{Event: "late"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Close: %v, want ErrClosed", err)
	}
	_, resp, err := e.tryDial(dialOpts{header: "Bearer tok-alice"})
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dial after Close: %v, want 503", err)
	}
	if n := e.hub.connCount(); n != 0 {
		t.Errorf("closed Hub holds %d connections", n)
	}
	if err := e.hub.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
