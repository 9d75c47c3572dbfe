package bind_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/crypto/bcrypt"

	"github.com/seed331fb32b/chorus/node/app"
	"github.com/seed331fb32b/chorus/node/bind"
	"github.com/seed331fb32b/chorus/node/config"
	"github.com/seed331fb32b/chorus/node/store"
)

// The node builds its App over the store through bind.Stores.
func ExampleStores() {
	dir, err := os.MkdirTemp("", "chorus-bind")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	cfg := config.DefaultConfig()
	cfg.SqlSettings.DataSource = filepath.Join(dir, "chorus.db")
	st, err := store.Open(context.Background(), cfg.SqlSettings, nil)
	if err != nil {
		panic(err)
	}
	defer st.Close()

	a := app.New(app.Deps{Config: cfg, System: st.System(), Database: st, Stores: bind.Stores(st), PasswordCost: bcrypt.MinCost})
	u, err := a.CreateUser(context.Background(), nil, app.NewUser{Username: "Founder", Email: "founder@example.com", Password: "Passw0rd!"})
	if err != nil {
		panic(err)
	}
	fmt.Println(u.Username, u.Roles)
	// Output: founder system_admin system_user
}
