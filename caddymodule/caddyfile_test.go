package caddymodule

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

var update = flag.Bool("update", false, "rewrite the golden files of the adapt tests")

// adapt runs Caddy's Caddyfile adapter as "chorus adapt" does, with the
// given file name for error messages.
func adapt(t testing.TB, filename, src string) ([]byte, error) {
	t.Helper()
	adapter := caddyconfig.GetAdapter("caddyfile")
	out, warnings, err := adapter.Adapt([]byte(src), map[string]any{"filename": filename})
	for _, w := range warnings {
		t.Logf("warning: %s", w)
	}
	return out, err
}

// TestAdaptGolden adapts each testdata/adapt/*.caddytest (a Caddyfile, a
// line of dashes, the expected JSON) and compares. Run with -update to
// rewrite the expected JSON after a deliberate change.
func TestAdaptGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/adapt/*.caddytest")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".caddytest"), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			src, want, ok := strings.Cut(string(raw), "\n----------\n")
			if !ok {
				t.Fatalf("%s: no ---------- line between Caddyfile and JSON", f)
			}
			got, err := adapt(t, f, src)
			if err != nil {
				t.Fatalf("adapt: %v", err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, got, "", "\t"); err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := os.WriteFile(f, []byte(src+"\n----------\n"+pretty.String()+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if strings.TrimSpace(pretty.String()) != strings.TrimSpace(want) {
				t.Errorf("adapted JSON differs from %s (run go test ./caddymodule -run TestAdaptGolden -update and review the diff)\ngot:\n%s", f, pretty.String())
			}
		})
	}
}

// TestRootCaddyfileAdapts keeps the repository's example Caddyfile valid.
func TestRootCaddyfileAdapts(t *testing.T) {
	src, err := os.ReadFile("../Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	out, err := adapt(t, "Caddyfile", string(src))
	if err != nil {
		t.Fatalf("adapt ../Caddyfile: %v", err)
	}
	for _, want := range []string{`"handler":"reverse_proxy"`, `"health_uri":"/api/v4/system/ping"`, `"handler":"chorus_websocket"`, `"source":"chorus"`, `"handler":"chorus_error"`} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("adapted root Caddyfile lacks %s", want)
		}
	}
}

func TestClusterNameSharedOnlyWithTheSameSettings(t *testing.T) {
	same := ":8080 {\n\tchorus 127.0.0.1:8065\n}\n:8081 {\n\tchorus 127.0.0.1:8065\n}\n"
	if _, err := adapt(t, "Caddyfile", same); err != nil {
		t.Fatalf("two sites sharing one cluster with the same settings: %v", err)
	}
	other := ":8080 {\n\tchorus 127.0.0.1:8065\n}\n:8081 {\n\tchorus 127.0.0.1:9065\n}\n"
	_, err := adapt(t, "Caddyfile", other)
	if err == nil || !strings.Contains(err.Error(), "Caddyfile:5") || !strings.Contains(err.Error(), "Caddyfile:2") || !strings.Contains(err.Error(), "cluster <name>") {
		t.Fatalf("two clusters under one name: %v; want an error naming both lines and the fix", err)
	}
	named := ":8080 {\n\tchorus 127.0.0.1:8065\n}\n:8081 {\n\tchorus 127.0.0.1:9065 {\n\t\tcluster second\n\t}\n}\n"
	if _, err := adapt(t, "Caddyfile", named); err != nil {
		t.Fatalf("two named clusters: %v", err)
	}
}

func TestBadDirectiveNamesFileAndLine(t *testing.T) {
	tests := []struct {
		name     string
		block    string // the lines after ":8080 {", the directive on line 2
		wantLine string
		wantText string
	}{
		{"no node", "chorus\n}", "Caddyfile:2", "chorus needs nodes"},
		{"node without port", "chorus 127.0.0.1\n}", "Caddyfile:2", "want host:port"},
		{"https node", "chorus https://10.0.0.1:8065\n}", "Caddyfile:2", "scheme"},
		{"node listed twice", "chorus 127.0.0.1:8065 {\n\tnodes 127.0.0.1:8065\n}\n}", "Caddyfile:3", "listed twice"},
		{"bad interval", "chorus 127.0.0.1:8065 {\n\thealth_interval soon\n}\n}", "Caddyfile:3", "health_interval \"soon\" is not a duration"},
		{"zero interval", "chorus 127.0.0.1:8065 {\n\thealth_interval 0s\n}\n}", "Caddyfile:3", "health_interval \"0s\" is not a positive duration"},
		{"negative slow start", "chorus 127.0.0.1:8065 {\n\tslow_start -1s\n}\n}", "Caddyfile:3", "slow_start"},
		{"bad drain grace", "chorus 127.0.0.1:8065 {\n\tdrain_grace later\n}\n}", "Caddyfile:3", "drain_grace"},
		{"bad drain spread", "chorus 127.0.0.1:8065 {\n\tdrain_spread -2s\n}\n}", "Caddyfile:3", "drain_spread"},
		{"zero passive fails", "chorus 127.0.0.1:8065 {\n\tpassive_fails 0\n}\n}", "Caddyfile:3", "passive_fails"},
		{"gossip without address", "chorus {\n\tgossip\n}\n}", "Caddyfile:3", "at least one join address"},
		{"gossip address without port", "chorus {\n\tgossip 10.0.0.1\n}\n}", "Caddyfile:3", "want host:port"},
		{"gossip key not base64", "chorus {\n\tgossip 10.0.0.1:8074 {\n\t\tkey %%%\n\t}\n}\n}", "Caddyfile:4", "not base64"},
		{"gossip key too short", "chorus {\n\tgossip 10.0.0.1:8074 {\n\t\tkey c2hvcnQ=\n\t}\n}\n}", "Caddyfile:4", "5 bytes"},
		{"gossip bad bind", "chorus {\n\tgossip 10.0.0.1:8074 {\n\t\tbind everywhere\n\t}\n}\n}", "Caddyfile:4", "bind"},
		{"gossip unknown option", "chorus {\n\tgossip 10.0.0.1:8074 {\n\t\tgossip_harder\n\t}\n}\n}", "Caddyfile:4", "unrecognized gossip option"},
		{"cluster twice", "chorus 127.0.0.1:8065 {\n\tcluster a\n\tgossip 10.0.0.1:8074 {\n\t\tcluster b\n\t}\n}\n}", "Caddyfile:5", "cluster is given twice"},
		{"negative interval", "chorus 127.0.0.1:8065 {\n\thealth_interval -1s\n}\n}", "Caddyfile:3", "health_interval \"-1s\""},
		{"zero fails", "chorus 127.0.0.1:8065 {\n\n\thealth_fails 0\n}\n}", "Caddyfile:4", "at least 1"},
		{"bad size", "chorus 127.0.0.1:8065 {\n\tmax_body lots\n}\n}", "Caddyfile:3", "max_body"},
		{"unknown option", "chorus 127.0.0.1:8065 {\n\tbalance fairly\n}\n}", "Caddyfile:3", "unrecognized chorus option"},
		{"option twice", "chorus 127.0.0.1:8065 {\n\thealth_uri /a\n\thealth_uri /b\n}\n}", "Caddyfile:4", "given twice"},
		{"relative health uri", "chorus 127.0.0.1:8065 {\n\thealth_uri ping\n}\n}", "Caddyfile:3", "must start with /"},
		{"cache of the API", "chorus 127.0.0.1:8065 {\n\tcache /api/v4/*\n}\n}", "Caddyfile:3", "never cached"},
		{"cache of the WebSocket route", "chorus 127.0.0.1:8065 {\n\tcache /api/v4/websocket\n}\n}", "Caddyfile:3", "never cached"},
		{"cache of everything", "chorus 127.0.0.1:8065 {\n\tcache /*\n}\n}", "Caddyfile:3", "never cached"},
		{"relative cache path", "chorus 127.0.0.1:8065 {\n\tcache static/*\n}\n}", "Caddyfile:3", "must start with /"},
		{"bad cache option", "chorus 127.0.0.1:8065 {\n\tcache {\n\t\tmin_uses lots\n\t}\n}\n}", "Caddyfile:4", "min_uses"},
		{"server_status with argument", "chorus 127.0.0.1:8065 {\n\tserver_status yes\n}\n}", "Caddyfile:3", "wrong argument count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := adapt(t, "Caddyfile", ":8080 {\n"+tt.block+"\n")
			if err == nil {
				t.Fatal("adapt succeeded; want an error")
			}
			if !strings.Contains(err.Error(), tt.wantLine) || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q: want it to name %s and say %q", err, tt.wantLine, tt.wantText)
			}
		})
	}
}
