package main

import (
	"math"
	"os"
	"runtime/debug"
	"testing"
)

// TestTuneRuntime: a proxy gets GOGC 400 and a memory limit of half the
// memory unless the environment sets them; an app node keeps Go's
// defaults.
func TestTuneRuntime(t *testing.T) {
	for _, tc := range []struct {
		name      string
		args      []string
		env       map[string]string
		wantGOGC  bool // set to proxyGOGC
		wantLimit bool // set below Go's "no limit"
	}{
		{"front door", []string{"run", "--config", "Caddyfile"}, nil, true, true},
		{"demo", []string{"demo"}, nil, true, true},
		{"GOGC in the environment wins", []string{"run"}, map[string]string{"GOGC": "100"}, false, true},
		{"GOMEMLIMIT in the environment wins", []string{"run"}, map[string]string{"GOMEMLIMIT": "off"}, true, false},
		{"AUTOMEMLIMIT off is honoured", []string{"run"}, map[string]string{"AUTOMEMLIMIT": "off"}, true, false},
		{"an app node keeps Go's defaults", []string{"node", "--config", "config.json"}, nil, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prevGC := debug.SetGCPercent(100)
			prevLimit := debug.SetMemoryLimit(math.MaxInt64)
			t.Cleanup(func() { debug.SetGCPercent(prevGC); debug.SetMemoryLimit(prevLimit) })
			t.Setenv("AUTOMEMLIMIT", "")
			os.Unsetenv("AUTOMEMLIMIT")
			t.Setenv("GOMEMLIMIT", "")
			os.Unsetenv("GOMEMLIMIT")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }

			tuneRuntime(tc.args, lookup)

			gc := debug.SetGCPercent(100)
			limit := debug.SetMemoryLimit(-1)
			if (gc == proxyGOGC) != tc.wantGOGC {
				t.Errorf("GC percent %d; want proxy's: %v", gc, tc.wantGOGC)
			}
			if (limit < math.MaxInt64) != tc.wantLimit {
				t.Errorf("memory limit %d; want one set: %v", limit, tc.wantLimit)
			}
			if tc.wantLimit && tc.env["AUTOMEMLIMIT"] == "" && os.Getenv("AUTOMEMLIMIT") != "off" {
				t.Errorf("AUTOMEMLIMIT=%q; want off, so Caddy's run keeps the limit", os.Getenv("AUTOMEMLIMIT"))
			}
		})
	}
}
