package jobs_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/seed331fb32b/chorus/node/config"
	"github.com/seed331fb32b/chorus/node/jobs"
	"github.com/seed331fb32b/chorus/node/store"
)

// A node without a cluster schedules its jobs itself (no Leadership);
// each run is a row of the Jobs table, listed newest first.
func ExampleScheduler() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "chorus-jobs-example")
	defer os.RemoveAll(dir)
	sql := config.DefaultConfig().SqlSettings
	sql.DataSource = filepath.Join(dir, "chorus.db")
	st, err := store.Open(ctx, sql, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()

	ran := make(chan struct{})
	hello := jobs.Job{
		Type:     "hello",
		Interval: time.Hour,
		Run: func(context.Context, *store.Job) (map[string]string, error) {
			close(ran)
			return map[string]string{"greeting": "hello"}, nil
		},
	}
	cfg := jobs.DefaultConfig()
	cfg.NodeID = "node-1"
	s, err := jobs.New(cfg, jobs.Deps{Store: st.Jobs()}, hello)
	if err != nil {
		fmt.Println(err)
		return
	}
	s.Start()
	<-ran
	_ = s.Stop(ctx) // waits for the run to record its end

	list, _ := s.List(ctx, jobs.Filter{Type: "hello"})
	for _, j := range list {
		fmt.Println(j.Type, j.Status, j.Data["greeting"], j.Data["node_id"])
	}
	// Output: hello success hello node-1
}
