package cache_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/seed331fb32b/chorus/cache"
)

func ExampleCache_Serve() {
	cfg := cache.DefaultConfig()
	cfg.MinUses = 1 // store the first response
	c, err := cache.New(cfg)
	if err != nil {
		panic(err)
	}
	upstream := cache.UpstreamFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "max-age=60")
		_, err := io.WriteString(w, "console.log('hi')")
		return err
	})
	for range 2 {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "http://chat.example.com/static/main.js", nil)
		if err := c.Serve(w, r, upstream); err != nil {
			panic(err)
		}
		fmt.Println(w.Code, w.Header().Get("Cache-Status"))
	}
	fmt.Println(c.Stats().Hits, "hit,", c.Stats().Misses, "miss")
	// Output:
	// 200 chorus; fwd=uri-miss; fwd-status=200; ttl=60; stored
	// 200 chorus; hit; ttl=60
	// 1 hit, 1 miss
}
