package balancer_test

import (
	"fmt"

	"github.com/seed331fb32b/chorus/balancer"
)

func ExamplePool_Drain() {
	cfg := balancer.DefaultConfig()
	cfg.Nodes = []string{"10.10.10.2:8065", "10.10.10.4:8065"}
	pool, err := balancer.NewPool(cfg, balancer.Options{})
	if err != nil {
		panic(err)
	}
	// Without Start, nodes stay joining until probed; draining one works
	// all the same.
	st, _ := pool.Drain("10.10.10.2:8065")
	fmt.Println(st.Node, st.State, st.DrainBy)
	// Output: 10.10.10.2:8065 drained admin
}
