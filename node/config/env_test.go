package config

import (
	"bytes"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestEnvOverrides(t *testing.T) {
	const file = `{"SqlSettings": {"MaxOpenConns": 50, "Trace": false, "DataSourceReplicas": ["file-replica"]}}`
	tests := []struct {
		name          string
		env           []string
		check         func(t *testing.T, cfg *Config)
		wantOverrides []string
	}{
		{
			name: "bool variable wins over the file",
			env:  []string{"MM_SQLSETTINGS_TRACE=true"},
			check: func(t *testing.T, cfg *Config) {
				if !cfg.SqlSettings.Trace {
					t.Error("Trace = false, want true")
				}
			},
			wantOverrides: []string{"SqlSettings.Trace"},
		},
		{
			name: "int variable wins over the file",
			env:  []string{"MM_SQLSETTINGS_MAXOPENCONNS=12"},
			check: func(t *testing.T, cfg *Config) {
				if cfg.SqlSettings.MaxOpenConns != 12 {
					t.Errorf("MaxOpenConns = %d, want 12", cfg.SqlSettings.MaxOpenConns)
				}
			},
			wantOverrides: []string{"SqlSettings.MaxOpenConns"},
		},
		{
			name: "negative int is accepted",
			env:  []string{"MM_SERVICESETTINGS_GOROUTINEHEALTHTHRESHOLD=-5"},
			check: func(t *testing.T, cfg *Config) {
				if cfg.ServiceSettings.GoroutineHealthThreshold != -5 {
					t.Errorf("GoroutineHealthThreshold = %d", cfg.ServiceSettings.GoroutineHealthThreshold)
				}
			},
			wantOverrides: []string{"ServiceSettings.GoroutineHealthThreshold"},
		},
		{
			name: "list variable splits on single spaces",
			env:  []string{"MM_SQLSETTINGS_DATASOURCEREPLICAS=postgres://r1/mm postgres://r2/mm"},
			check: func(t *testing.T, cfg *Config) {
				want := []string{"postgres://r1/mm", "postgres://r2/mm"}
				if !reflect.DeepEqual(cfg.SqlSettings.DataSourceReplicas, want) {
					t.Errorf("DataSourceReplicas = %q, want %q", cfg.SqlSettings.DataSourceReplicas, want)
				}
			},
			wantOverrides: []string{"SqlSettings.DataSourceReplicas"},
		},
		{
			name: "empty list variable clears the list",
			env:  []string{"MM_SQLSETTINGS_DATASOURCEREPLICAS="},
			check: func(t *testing.T, cfg *Config) {
				if len(cfg.SqlSettings.DataSourceReplicas) != 0 {
					t.Errorf("DataSourceReplicas = %q, want empty", cfg.SqlSettings.DataSourceReplicas)
				}
			},
			wantOverrides: []string{"SqlSettings.DataSourceReplicas"},
		},
		{
			name: "string variable and name in mixed case",
			env:  []string{"MM_ClusterSettings_ClusterName=blue", "MM_CLUSTERSETTINGS_ENABLE=1"},
			check: func(t *testing.T, cfg *Config) {
				if cfg.ClusterSettings.ClusterName != "blue" || !cfg.ClusterSettings.Enable {
					t.Errorf("ClusterSettings = %+v", cfg.ClusterSettings)
				}
			},
			wantOverrides: []string{"ClusterSettings.ClusterName", "ClusterSettings.Enable"},
		},
		{
			name: "unrelated and unknown variables are ignored",
			env:  []string{"HOME=/root", "MM_TEAMSETTINGS_SITENAME=x", "MM_SQLSETTINGS=y", "MMX=1"},
			check: func(t *testing.T, cfg *Config) {
				if cfg.SqlSettings.MaxOpenConns != 50 {
					t.Errorf("MaxOpenConns = %d, want 50 from the file", cfg.SqlSettings.MaxOpenConns)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, file)
			cfg, err := load(path, tt.env)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			tt.check(t, cfg)
			if got := cfg.EnvOverrides(); !slices.Equal(got, tt.wantOverrides) {
				t.Errorf("EnvOverrides() = %q, want %q", got, tt.wantOverrides)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(after, []byte(file)) {
				t.Errorf("config file changed to %s", after)
			}
		})
	}
}

func TestEnvOverrideErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  string
	}{
		{"bad bool", "MM_CLUSTERSETTINGS_READONLYCONFIG=yes please"},
		{"bad int", "MM_SQLSETTINGS_QUERYTIMEOUT=30s"},
		{"int overflow", "MM_CLUSTERSETTINGS_GOSSIPPORT=99999999999999999999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(writeConfig(t, `{}`), []string{tt.env})
			if err == nil {
				t.Fatal("load succeeded, want an error")
			}
			name, _, _ := strings.Cut(tt.env, "=")
			if !strings.Contains(err.Error(), name) {
				t.Errorf("error %q does not name %s", err, name)
			}
		})
	}
}

// TestEverySettingHasAnEnvironmentVariable guards the reflection walk: a new
// field of a kind applyEnv cannot parse would silently lose its override.
func TestEverySettingHasAnEnvironmentVariable(t *testing.T) {
	var env []string
	err := walkSettings(reflect.ValueOf(DefaultConfig()).Elem(), nil, func(path []string, field reflect.Value) error {
		value := map[reflect.Kind]string{reflect.String: "s", reflect.Bool: "true", reflect.Int: "1", reflect.Slice: "a b"}[field.Kind()]
		if value == "" {
			t.Errorf("%s has unsupported kind %s", strings.Join(path, "."), field.Kind())
		}
		env = append(env, "MM_"+strings.ToUpper(strings.Join(path, "_"))+"="+value)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	overridden, err := applyEnv(cfg, env)
	if err != nil {
		t.Fatalf("applyEnv: %v", err)
	}
	if len(overridden) != len(env) {
		t.Errorf("%d settings overridden, want %d: %q", len(overridden), len(env), overridden)
	}
}

// TestLoadReadsProcessEnvironment checks the exported Load, which reads
// os.Environ; it cannot run in parallel because of t.Setenv.
func TestLoadReadsProcessEnvironment(t *testing.T) {
	t.Setenv("MM_SQLSETTINGS_QUERYTIMEOUT", "7")
	cfg, err := Load(writeConfig(t, `{"SqlSettings": {"QueryTimeout": 60}}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SqlSettings.QueryTimeout != 7 {
		t.Errorf("QueryTimeout = %d, want 7 from MM_SQLSETTINGS_QUERYTIMEOUT", cfg.SqlSettings.QueryTimeout)
	}
	if got := cfg.EnvOverrides(); !slices.Equal(got, []string{"SqlSettings.QueryTimeout"}) {
		t.Errorf("EnvOverrides() = %q", got)
	}
}
