package cluster_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/seed331fb32b/chorus/node/cluster"
	"github.com/seed331fb32b/chorus/node/config"
	"github.com/seed331fb32b/chorus/node/store"
)

// A node joins its cluster: alone on a fresh database it is its own
// leader, and its row in ClusterDiscovery tells the next node where to
// join.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "chorus-cluster-example")
	defer os.RemoveAll(dir)
	sql := config.DefaultConfig().SqlSettings
	sql.DataSource = filepath.Join(dir, "chorus.db")
	st, err := store.Open(ctx, sql, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()

	cfg := cluster.DefaultConfig()
	cfg.Settings.Enable = true
	cfg.Settings.ClusterName = "example"
	cfg.Settings.BindAddress = "127.0.0.1"
	cfg.Settings.GossipPort = 0 // any free port
	cfg.NodeID = "y6zb8prqjfd1mkxxb7wzkm3ioh"
	cfg.APIAddress = "127.0.0.1:8065"
	c, err := cluster.New(cfg, cluster.Deps{Discovery: st.ClusterDiscovery(), System: st.System()})
	if err != nil {
		fmt.Println(err)
		return
	}
	c.Handle(cluster.EventClearSessionUser, func(_ context.Context, userID []byte) {
		fmt.Println("drop the cached sessions of", string(userID))
	})
	if err := c.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	rows, _ := st.ClusterDiscovery().GetAll(ctx, cluster.Type, "example", 0)
	fmt.Println("members:", len(c.Members()), "leader:", c.IsLeader(), "discovery rows:", len(rows))
	_ = c.Stop(ctx)
	rows, _ = st.ClusterDiscovery().GetAll(ctx, cluster.Type, "example", 0)
	fmt.Println("after stop, discovery rows:", len(rows))
	// Output:
	// members: 1 leader: true discovery rows: 1
	// after stop, discovery rows: 0
}

// Nodes whose config.json files differ only in ClusterSettings announce
// the same hash; any other difference shows.
func ExampleConfigHash() {
	a := config.DefaultConfig()
	b := config.DefaultConfig()
	b.ClusterSettings.GossipPort = 8075
	c := config.DefaultConfig()
	c.ServiceSettings.SiteURL = "https://chat.example.com"
	fmt.Println(cluster.ConfigHash(a) == cluster.ConfigHash(b), cluster.ConfigHash(a) == cluster.ConfigHash(c))
	// Output: true false
}
