package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/seed331fb32b/chorus/node/config"
	"github.com/seed331fb32b/chorus/node/store"
)

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "chorus-store")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	settings := config.DefaultConfig().SqlSettings // SQLite
	settings.DataSource = filepath.Join(dir, "data", "chorus.db")

	ctx := context.Background()
	st, err := store.Open(ctx, settings, nil) // creates data/, migrates
	if err != nil {
		panic(err)
	}
	defer st.Close()

	v, err := st.System().Get(ctx, store.SchemaVersionKey)
	fmt.Println("schema", v, err)
	_, err = st.System().Get(ctx, "missing")
	fmt.Println(errors.Is(err, store.ErrNotFound))

	channel := &store.Channel{ID: "4xp9fdt77pncbef59f4k1qe83o", Name: "town-square", Type: "O"}
	if err := st.Channels().Save(ctx, channel); err != nil {
		panic(err)
	}
	for i, id := range []string{"1aqt8bwsqprdxkzp8rft9amhyc", "y3kdtdkwq7ffuniqoc5r6c7dmr", "mzoqbaw3bjfwfnn3grrtxs1rfr"} {
		post := &store.Post{ID: id, ChannelID: channel.ID, CreateAt: int64(1000 + i), Message: fmt.Sprint("message ", i)}
		if err := st.Posts().Save(ctx, post); err != nil {
			panic(err)
		}
	}
	// Read what was just written from the master, as replicas may lag.
	page, err := st.Posts().GetPage(store.WithMaster(ctx), channel.ID, 0, 2)
	if err != nil {
		panic(err)
	}
	for _, p := range page {
		fmt.Println(p.Message)
	}
	// Output:
	// schema 1.1 <nil>
	// true
	// message 2
	// message 1
}
