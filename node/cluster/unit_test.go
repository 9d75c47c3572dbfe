package cluster

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed331fb32b/chorus/node/config"
	"github.com/seed331fb32b/chorus/node/store/storetest"
)

// configWithEnv returns a config loaded from a file with environ applied,
// through config.Load, as a node gets it.
func configWithEnv(t *testing.T, file string, environ map[string]string) *config.Config {
	t.Helper()
	path := t.TempDir() + "/config.json"
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range environ {
		t.Setenv(k, v)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestConfigHash(t *testing.T) {
	// Not parallel: t.Setenv.
	base := `{"ServiceSettings":{"SiteURL":"https://chat.example.com"},"ClusterSettings":{"Enable":true,"ClusterName":"c","GossipPort":8074}}`
	h := ConfigHash(configWithEnv(t, base, nil))
	if len(h) != 32 {
		t.Fatalf("hash %q: want 32 hex digits", h)
	}
	tests := []struct {
		name    string
		file    string
		environ map[string]string
		same    bool
	}{
		{"the same file hashes the same", base, nil, true},
		{"ClusterSettings are left out", `{"ServiceSettings":{"SiteURL":"https://chat.example.com"},"ClusterSettings":{"Enable":true,"ClusterName":"c","GossipPort":8075,"OverrideHostname":"n2"}}`, nil, true},
		{"an environment override of ClusterSettings changes nothing", base, map[string]string{"MM_CLUSTERSETTINGS_GOSSIPPORT": "9000"}, true},
		{"another setting in the file changes it", `{"ServiceSettings":{"SiteURL":"https://other.example.com"},"ClusterSettings":{"Enable":true,"ClusterName":"c"}}`, nil, false},
		{"a default written out hashes as the default", `{"ServiceSettings":{"SiteURL":"https://chat.example.com","ListenAddress":":8065"},"ClusterSettings":{"Enable":true,"ClusterName":"c"}}`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ConfigHash(configWithEnv(t, tt.file, tt.environ))
			if (got == h) != tt.same {
				t.Fatalf("hash %s vs base %s: same = %v, want %v", got, h, got == h, tt.same)
			}
		})
	}
	t.Run("settings from the environment are left out, whatever their values", func(t *testing.T) {
		n1 := ConfigHash(configWithEnv(t, base, map[string]string{"MM_SQLSETTINGS_DATASOURCE": "/data/node1.db"}))
		n2 := ConfigHash(configWithEnv(t, base, map[string]string{"MM_SQLSETTINGS_DATASOURCE": "/data/node2.db"}))
		if n1 != n2 {
			t.Fatalf("nodes differing only in an environment override hash %s and %s", n1, n2)
		}
	})
	if ConfigHash(nil) == h {
		t.Error("a nil config hashes like a real one")
	}
}

func TestMetaStaysWithinTheLimit(t *testing.T) {
	m := Meta{Role: RoleApp, ID: newID(), Version: "1.2.3", ConfigHash: strings.Repeat("a", 32), API: "127.0.0.1:8065",
		State: StateServing, SchemaVersion: "1.1", Hostname: strings.Repeat("h", 400)}
	b := m.encode(metaMaxSize)
	if len(b) == 0 || len(b) > metaMaxSize {
		t.Fatalf("encoded %d bytes", len(b))
	}
	got, ok := decodeMeta(b)
	if !ok || got.ID != m.ID || got.API != m.API || got.Hostname != "" || got.SchemaVersion != "1.1" {
		t.Fatalf("decoded %+v, %v; want the contract's keys, the long hostname dropped", got, ok)
	}
	short := m
	short.Hostname = "node-1"
	if got, _ := decodeMeta(short.encode(metaMaxSize)); got != short {
		t.Fatalf("round trip = %+v, want %+v", got, short)
	}
	for _, raw := range []string{`{"role":"proxy","id":"x"}`, `{"role":"app"}`, `not json`, ``} {
		if _, ok := decodeMeta([]byte(raw)); ok {
			t.Errorf("decodeMeta(%q) accepted a member that is not an app node", raw)
		}
	}
	// The front door's reader (balancer.MemberMeta) has the contract's
	// keys under these exact names.
	var contract map[string]any
	_ = json.Unmarshal(short.encode(metaMaxSize), &contract)
	for _, k := range []string{"role", "id", "version", "config_hash", "api", "state"} {
		if _, ok := contract[k]; !ok {
			t.Errorf("metadata lacks the contract's key %q", k)
		}
	}
}

func TestFramesRoundTripAndRejectGarbage(t *testing.T) {
	m1, _ := json.Marshal(Message{Event: "a", Data: []byte{0, 1, 2}, Props: map[string]string{"k": "v"}})
	m2, _ := json.Marshal(Message{Event: "b"})
	f, err := decodeFrame(encodeFrame("node-1", 3, 7, []json.RawMessage{m1, m2}))
	if err != nil {
		t.Fatal(err)
	}
	if f.From != "node-1" || f.Epoch != 3 || f.Seq != 7 || len(f.Msgs) != 2 ||
		string(f.Msgs[0].Data) != "\x00\x01\x02" || f.Msgs[0].Props["k"] != "v" || f.Msgs[1].Event != "b" {
		t.Fatalf("decoded %+v", f)
	}
	if f, err := decodeFrame(encodeFrame("n", 0, 0, nil)); err != nil || f.Seq != 0 || len(f.Msgs) != 0 {
		t.Fatalf("best-effort empty frame = %+v, %v", f, err)
	}
	for _, bad := range [][]byte{nil, []byte("{}"), append([]byte{frameVersion}, "{"...), append([]byte{frameVersion}, `{"msgs":[]}`...)} {
		if _, err := decodeFrame(bad); err == nil {
			t.Errorf("decodeFrame(%q) accepted garbage", bad)
		}
	}
}

// newTestInbox returns an inbox of a cluster that records what it
// dispatches.
func newTestInbox(t *testing.T) (*inbox, func() []string) {
	t.Helper()
	c := &Cluster{handlers: map[string]func(context.Context, []byte){}}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	t.Cleanup(c.cancel)
	var mu sync.Mutex
	var got []string
	c.handlers["e"] = func(_ context.Context, data []byte) {
		mu.Lock()
		got = append(got, string(data))
		mu.Unlock()
	}
	in := newInbox(c, "sender")
	go in.run()
	return in, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

func msgs(data ...string) []Message {
	var out []Message
	for _, d := range data {
		out = append(out, Message{Event: "e", Data: []byte(d)})
	}
	return out
}

func TestInboxDeliversReliableFramesInOrder(t *testing.T) {
	t.Parallel()
	in, got := newTestInbox(t)
	in.push(frame{From: "sender", Epoch: 1, Seq: 2, Msgs: msgs("2a", "2b")})
	in.push(frame{From: "sender", Epoch: 1, Seq: 3, Msgs: msgs("3")})
	in.push(frame{From: "sender", Msgs: msgs("best-effort")}) // not ordered
	in.push(frame{From: "sender", Epoch: 1, Seq: 1, Msgs: msgs("1")})
	in.push(frame{From: "sender", Epoch: 1, Seq: 1, Msgs: msgs("dup")}) // a duplicate
	want := []string{"best-effort", "1", "2a", "2b", "3"}
	waitFor(t, "five messages", func() bool { return len(got()) == 5 }, func() string { return fmt.Sprint(got()) })
	if !slices.Equal(got(), want) {
		t.Fatalf("delivered %v, want %v", got(), want)
	}
}

func TestInboxGivesUpAMissingFrame(t *testing.T) {
	t.Parallel()
	in, got := newTestInbox(t)
	in.push(frame{From: "sender", Epoch: 1, Seq: 1, Msgs: msgs("1")})
	in.push(frame{From: "sender", Epoch: 1, Seq: 3, Msgs: msgs("3")}) // 2 never comes
	in.push(frame{From: "sender", Epoch: 1, Seq: 5, Msgs: msgs("5")}) // nor 4
	took := waitFor(t, "frames after two gaps", func() bool { return len(got()) == 3 }, func() string { return fmt.Sprint(got()) })
	if want := []string{"1", "3", "5"}; !slices.Equal(got(), want) {
		t.Fatalf("delivered %v, want %v", got(), want)
	}
	if took < gapWait {
		t.Errorf("gave up after %s, sooner than gapWait", took)
	}
	in.push(frame{From: "sender", Epoch: 1, Seq: 2, Msgs: msgs("2-late")}) // too late: dropped
	in.push(frame{From: "sender", Epoch: 1, Seq: 6, Msgs: msgs("6")})
	waitFor(t, "frame 6", func() bool { return len(got()) == 4 }, func() string { return fmt.Sprint(got()) })
	if g := got(); g[3] != "6" {
		t.Fatalf("delivered %v; want 6 next, the late 2 dropped", g)
	}
}

func TestInboxFollowsANewEpoch(t *testing.T) {
	t.Parallel()
	in, got := newTestInbox(t)
	in.push(frame{From: "sender", Epoch: 1, Seq: 1, Msgs: msgs("old-1")})
	in.push(frame{From: "sender", Epoch: 1, Seq: 3, Msgs: msgs("old-3")}) // held
	in.push(frame{From: "sender", Epoch: 2, Seq: 1, Msgs: msgs("new-1")}) // sender restarted its stream
	in.push(frame{From: "sender", Epoch: 1, Seq: 4, Msgs: msgs("old-4")}) // late: delivered, not lost
	waitFor(t, "four messages", func() bool { return len(got()) == 4 }, func() string { return fmt.Sprint(got()) })
	if want := []string{"old-1", "old-3", "new-1", "old-4"}; !slices.Equal(got(), want) {
		t.Fatalf("delivered %v, want %v", got(), want)
	}
}

func TestConfigValidation(t *testing.T) {
	valid := DefaultConfig()
	valid.Settings.Enable, valid.Settings.ClusterName, valid.NodeID = true, "c", newID()
	if err := valid.validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"clustering off", func(c *Config) { c.Settings.Enable = false }, "Enable"},
		{"no cluster name", func(c *Config) { c.Settings.ClusterName = "" }, "ClusterName"},
		{"cluster name too long", func(c *Config) { c.Settings.ClusterName = strings.Repeat("c", 65) }, "ClusterName"},
		{"bad port", func(c *Config) { c.Settings.GossipPort = 70000 }, "GossipPort"},
		{"no node id", func(c *Config) { c.NodeID = "" }, "NodeID"},
		{"zero probe interval", func(c *Config) { c.ProbeInterval = 0 }, "ProbeInterval"},
		{"zero ping interval", func(c *Config) { c.PingInterval = 0 }, "PingInterval"},
		{"zero request timeout", func(c *Config) { c.RequestTimeout = 0 }, "RequestTimeout"},
		{"tiny datagrams", func(c *Config) { c.MaxBestEffortSize = 10 }, "MaxBestEffortSize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.mutate(&cfg)
			if err := cfg.validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("validate = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

func TestNodesStartingTogetherAgreeOnOneKey(t *testing.T) {
	t.Parallel()
	for _, driver := range storetest.Drivers() {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			db := storetest.Open(t, driver)
			const nodes = 5
			keys := make([][]byte, nodes)
			errs := make([]error, nodes)
			var wg sync.WaitGroup
			for i := range nodes {
				wg.Go(func() { keys[i], errs[i] = loadKey(t.Context(), db.System()) })
			}
			wg.Wait()
			for i := range nodes {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				if len(keys[i]) != 32 || string(keys[i]) != string(keys[0]) {
					t.Fatalf("node %d got a %d-byte key differing from node 0's", i, len(keys[i]))
				}
			}
		})
	}
}

func TestABadKeyRowIsRefused(t *testing.T) {
	t.Parallel()
	for name, value := range map[string]string{
		"not base64": "%%%",
		"wrong size": base64.StdEncoding.EncodeToString(make([]byte, 20)),
	} {
		t.Run(name, func(t *testing.T) {
			db := storetest.Open(t, config.DriverSQLite)
			if err := db.System().SaveOrUpdate(t.Context(), KeyName, value); err != nil {
				t.Fatal(err)
			}
			if _, err := loadKey(t.Context(), db.System()); err == nil || !strings.Contains(err.Error(), KeyName) {
				t.Fatalf("loadKey = %v, want an error naming the row", err)
			}
		})
	}
	if _, err := loadKey(context.Background(), nil); err == nil {
		t.Error("loadKey without a store succeeded")
	}
}

func TestClockEstimate(t *testing.T) {
	c := newClocks()
	now := time.Unix(1700000000, 0)
	// The other clock is 2 s ahead; the ack took 10 ms there and back.
	c.sample("n", 10*time.Millisecond, now.Add(2*time.Second-5*time.Millisecond).UnixNano(), now)
	e, ok := c.get("n")
	if !ok || e.offset != 2*time.Second {
		t.Fatalf("offset %s, want 2s", e.offset)
	}
	// One outlier moves the estimate a quarter of the way.
	c.sample("n", 0, now.Add(6*time.Second).UnixNano(), now)
	if e, _ := c.get("n"); e.offset != 3*time.Second {
		t.Fatalf("after an outlier: %s, want 3s", e.offset)
	}
	c.forget("n")
	if _, ok := c.get("n"); ok {
		t.Error("forgotten node still has an estimate")
	}
}
