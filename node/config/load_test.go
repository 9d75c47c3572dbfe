package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeConfig writes content to a config.json in a fresh directory and
// returns its path.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		content string
		check   func(t *testing.T, cfg *Config)
	}{
		{
			name:    "empty object gives the defaults",
			content: `{}`,
			check: func(t *testing.T, cfg *Config) {
				want := DefaultConfig()
				if !reflect.DeepEqual(cfg, want) {
					t.Errorf("got %+v\nwant %+v", cfg, want)
				}
			},
		},
		{
			name: "fields in the file win, missing fields keep their defaults",
			content: `{
				"ServiceSettings": {"ListenAddress": "127.0.0.1:9000"},
				"SqlSettings": {"MaxOpenConns": 7, "DataSourceReplicas": ["a", "b"]},
				"ClusterSettings": {"Enable": true, "ClusterName": "prod", "UseIPAddress": false}
			}`,
			check: func(t *testing.T, cfg *Config) {
				if got := cfg.ServiceSettings.ListenAddress; got != "127.0.0.1:9000" {
					t.Errorf("ListenAddress = %q", got)
				}
				if got := cfg.ServiceSettings.GoroutineHealthThreshold; got != -1 {
					t.Errorf("GoroutineHealthThreshold = %d, want default -1", got)
				}
				if got := cfg.SqlSettings.MaxOpenConns; got != 7 {
					t.Errorf("MaxOpenConns = %d", got)
				}
				if got := cfg.SqlSettings.MaxIdleConns; got != 20 {
					t.Errorf("MaxIdleConns = %d, want default 20", got)
				}
				if got := cfg.SqlSettings.DataSourceReplicas; !reflect.DeepEqual(got, []string{"a", "b"}) {
					t.Errorf("DataSourceReplicas = %q", got)
				}
				if got := cfg.SqlSettings.DataSource; got != DefaultSQLiteDataSource {
					t.Errorf("DataSource = %q, want the SQLite default", got)
				}
				if cfg.ClusterSettings.UseIPAddress || !cfg.ClusterSettings.Enable || cfg.ClusterSettings.GossipPort != 8074 {
					t.Errorf("ClusterSettings = %+v", cfg.ClusterSettings)
				}
			},
		},
		{
			name: "Mattermost config with unknown sections and old field spelling loads",
			content: `{
				"ServiceSettings": {"SiteURL": "https://chat.example.com", "EnableDeveloper": false, "WebserverMode": "gzip"},
				"TeamSettings": {"SiteName": "Mattermost"},
				"SqlSettings": {"DriverName": "postgres", "DataSource": "postgres://mmuser:pw@db/mattermost", "AtRestEncryptKey": "x"},
				"ClusterSettings": {"UseIpAddress": false}
			}`,
			check: func(t *testing.T, cfg *Config) {
				if cfg.ServiceSettings.SiteURL != "https://chat.example.com" || cfg.SqlSettings.DriverName != DriverPostgres {
					t.Errorf("got %+v", cfg)
				}
				if cfg.ClusterSettings.UseIPAddress {
					t.Error("UseIpAddress (old spelling) was not read into UseIPAddress")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := load(writeConfig(t, tt.content), nil)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			tt.check(t, cfg)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string // "" means the file does not exist
		env     []string
		want    []string // substrings of the error, after the file path
		notWant string
	}{
		{
			name: "missing file is named",
			want: []string{"reading config", "config.json", "no such file"},
		},
		{
			name:    "syntax error gives line and column of the bad byte",
			content: "{\n  \"SqlSettings\": {\n    \"MaxOpenConns\": x\n  }\n}",
			want:    []string{"config.json:3:21: invalid character 'x'"},
		},
		{
			name:    "missing comma gives its line and column",
			content: "{\n  \"ServiceSettings\": {}\n  \"SqlSettings\": {}\n}",
			want:    []string{"config.json:3:3: invalid character '\"' after object key:value pair"},
		},
		{
			name:    "truncated file points at its end",
			content: "{\n  \"SqlSettings\": {",
			want:    []string{"config.json:2:18: unexpected end of JSON input"},
		},
		{
			name:    "wrong type names the setting, line and column",
			content: "{\n  \"SqlSettings\": {\n    \"MaxOpenConns\": \"lots\"\n  }\n}",
			want:    []string{"config.json:3:26: SqlSettings.MaxOpenConns: cannot use string as int"},
		},
		{
			name:    "unknown driver is named",
			content: `{"SqlSettings": {"DriverName": "oracle"}}`,
			want:    []string{"config.json: SqlSettings.DriverName: unknown driver \"oracle\""},
		},
		{
			name:    "postgres without a data source does not inherit the SQLite path",
			content: `{"SqlSettings": {"DriverName": "postgres"}}`,
			want:    []string{"SqlSettings.DataSource: empty"},
		},
		{
			name:    "postgres chosen in the environment does not inherit the SQLite path",
			content: `{}`,
			env:     []string{"MM_SQLSETTINGS_DRIVERNAME=postgres"},
			want:    []string{"SqlSettings.DataSource: empty"},
		},
		{
			name:    "bad environment value names the variable",
			content: `{}`,
			env:     []string{"MM_SQLSETTINGS_TRACE=maybe"},
			want:    []string{"environment variable MM_SQLSETTINGS_TRACE: invalid boolean \"maybe\""},
		},
		{
			name:    "invalid setting error keeps the DSN password out",
			content: `{"ServiceSettings": {"ListenAddress": "nope"}, "SqlSettings": {"DriverName": "mysql", "DataSource": "root:hunter2@tcp(db:3306)/mm"}}`,
			want:    []string{"ServiceSettings.ListenAddress"},
			notWant: "hunter2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.json")
			if tt.content != "" {
				path = writeConfig(t, tt.content)
			}
			_, err := load(path, tt.env)
			if err == nil {
				t.Fatal("load succeeded, want an error")
			}
			msg := strings.ReplaceAll(err.Error(), filepath.Dir(path)+string(filepath.Separator), "")
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if tt.notWant != "" && strings.Contains(msg, tt.notWant) {
				t.Errorf("error %q contains %q", msg, tt.notWant)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error %q is not one line", msg)
			}
		})
	}
}

func TestFileErrorUnwrapsToJSONError(t *testing.T) {
	_, err := load(writeConfig(t, `{"SqlSettings": [}`), nil)
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not a *FileError", err)
	}
	if fe.Line != 1 || fe.Column != 18 {
		t.Errorf("position = %d:%d, want 1:18", fe.Line, fe.Column)
	}
	if errors.Unwrap(fe) == nil {
		t.Error("FileError does not unwrap to the JSON error")
	}
}
