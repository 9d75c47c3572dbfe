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
	st, err := store.Open(ctx, settings) // creates data/, migrates
	if err != nil {
		panic(err)
	}
	defer st.Close()

	if err := st.System().SaveOrUpdate(ctx, "Version", "1"); err != nil {
		panic(err)
	}
	v, err := st.System().Get(ctx, "Version")
	fmt.Println(v, err)
	_, err = st.System().Get(ctx, "missing")
	fmt.Println(errors.Is(err, store.ErrNotFound))
	// Output:
	// 1 <nil>
	// true
}
