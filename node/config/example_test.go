package config_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/seed331fb32b/chorus/node/config"
)

func ExampleLoad() {
	dir, err := os.MkdirTemp("", "chorus-config")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, []byte(`{"ServiceSettings": {"ListenAddress": ":9065"}}`), 0o600); err != nil {
		panic(err)
	}

	cfg, err := config.Load(path)
	if err != nil {
		panic(err)
	}
	fmt.Println(cfg.ServiceSettings.ListenAddress, cfg.SqlSettings.DriverName, cfg.SqlSettings.MaxOpenConns)
	// Output: :9065 sqlite 300
}
