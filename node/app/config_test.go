package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/seed331fb32b/chorus/node/config"
)

// writeConfigFile writes content as the config.json at path.
func writeConfigFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// fakeDatabase records the settings it was recycled with. The app's
// wiring is the subject; node/api and node/store test real recycles.
type fakeDatabase struct {
	recycled []config.SqlSettings
	err      error
}

func (f *fakeDatabase) Recycle(_ context.Context, settings config.SqlSettings) error {
	f.recycled = append(f.recycled, settings)
	return f.err
}

var _ Database = (*fakeDatabase)(nil)

func TestReloadConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	writeConfigFile(t, path, `{"SqlSettings": {"DataSource": "/data/a.db"}}`)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	db := &fakeDatabase{}
	a := New(Deps{Config: cfg, ConfigPath: path, System: &fakeSystem{}, Database: db, Logger: zaptest.NewLogger(t)})

	t.Run("a changed file becomes the config, and recycling uses its SqlSettings", func(t *testing.T) {
		writeConfigFile(t, path, `{"ServiceSettings": {"GoroutineHealthThreshold": 1}, "SqlSettings": {"DataSource": "/data/b.db", "DataSourceReplicas": ["/data/r.db"]}}`)
		if err := a.ReloadConfig(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := a.Config().SqlSettings.DataSource; got != "/data/b.db" {
			t.Errorf("DataSource after reload = %q", got)
		}
		if st := a.Healthy(t.Context(), false); st.OK() {
			t.Error("the reloaded goroutine threshold of 1 did not apply at once")
		}
		if err := a.RecycleDatabase(t.Context()); err != nil {
			t.Fatal(err)
		}
		last := db.recycled[len(db.recycled)-1]
		if last.DataSource != "/data/b.db" || len(last.DataSourceReplicas) != 1 {
			t.Errorf("recycled with %+v, want the reloaded SqlSettings", last)
		}
	})
	t.Run("environment overrides still win and the file is not written", func(t *testing.T) {
		t.Setenv("MM_SQLSETTINGS_DATASOURCE", "/data/env.db")
		content := `{"SqlSettings": {"DataSource": "/data/c.db"}}`
		writeConfigFile(t, path, content)
		if err := a.ReloadConfig(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := a.Config().SqlSettings.DataSource; got != "/data/env.db" {
			t.Errorf("DataSource = %q, want the environment's", got)
		}
		if data, err := os.ReadFile(path); err != nil || string(data) != content {
			t.Errorf("config file changed to %q (%v)", data, err)
		}
	})
	t.Run("a broken file keeps the current config", func(t *testing.T) {
		before := a.Config()
		writeConfigFile(t, path, "{\n  \"SqlSettings\": nope\n}")
		err := a.ReloadConfig(t.Context())
		if err == nil || !strings.Contains(err.Error(), "config.json:2:") {
			t.Fatalf("ReloadConfig = %v, want an error naming the line of config.json", err)
		}
		if a.Config() != before {
			t.Error("a failed reload replaced the config")
		}
	})
}

func TestReloadAndRecycleErrors(t *testing.T) {
	errDown := errors.New("new master unreachable")
	tests := []struct {
		name string
		deps Deps
		call func(a *App) error
		want error // nil: any error
	}{
		{"reload without a config file", Deps{}, func(a *App) error { return a.ReloadConfig(context.Background()) }, nil},
		{"recycle without a database", Deps{}, func(a *App) error { return a.RecycleDatabase(context.Background()) }, nil},
		{"recycle error is returned", Deps{Database: &fakeDatabase{err: errDown}},
			func(a *App) error { return a.RecycleDatabase(context.Background()) }, errDown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.deps.Config, tt.deps.System = config.DefaultConfig(), &fakeSystem{}
			err := tt.call(New(tt.deps))
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
