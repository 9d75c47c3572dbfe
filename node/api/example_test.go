package api_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/seed331fb32b/chorus/node/api"
	"github.com/seed331fb32b/chorus/node/app"
	"github.com/seed331fb32b/chorus/node/bind"
	"github.com/seed331fb32b/chorus/node/config"
	"github.com/seed331fb32b/chorus/node/store"
)

func ExampleNew() {
	dir, err := os.MkdirTemp("", "chorus-api")
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
	a := app.New(app.Deps{Config: cfg, System: st.System(), Database: st, Stores: bind.Stores(st)})
	hub, err := api.NewHub(a, api.HubConfig(a, "dev"), nil)
	if err != nil {
		panic(err)
	}
	defer hub.Close()
	handler := api.New(a, hub, "dev", nil)

	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v4/system/ping?get_server_status=true", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("database_status"))
	fmt.Println(rec.Body.String())
	// Output:
	// 200 application/json OK
	// {"ActiveSearchBackend":"database","AndroidLatestVersion":"","AndroidMinVersion":"","IosLatestVersion":"","IosMinVersion":"","database_status":"OK","status":"OK"}
}
