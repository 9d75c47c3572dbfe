package store

import (
	"strings"
	"testing"

	"github.com/seed331fb32b/chorus/node/config"
)

func TestRebind(t *testing.T) {
	tests := []struct {
		driver string
		want   string
	}{
		{config.DriverPostgres, "INSERT INTO t (a, b) VALUES ($1, $2) -- é"},
		{config.DriverMySQL, "INSERT INTO t (a, b) VALUES (?, ?) -- é"},
		{config.DriverSQLite, "INSERT INTO t (a, b) VALUES (?, ?) -- é"},
	}
	for _, tt := range tests {
		t.Run(tt.driver, func(t *testing.T) {
			d, err := dialectFor(tt.driver)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.rebind("INSERT INTO t (a, b) VALUES (?, ?) -- é"); got != tt.want {
				t.Errorf("rebind = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSQLiteDSNKeepsUserParameters(t *testing.T) {
	dir := t.TempDir()
	dsn, err := sqliteDialect{}.dsn(dir + "/a/b/chorus.db?_time_format=sqlite")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{dir + "/a/b/chorus.db?", "_time_format=sqlite", "_busy_timeout=10000", "_foreign_keys=1", "_txlock=immediate"} {
		if !strings.Contains(dsn, want) {
			t.Errorf("dsn %q lacks %q", dsn, want)
		}
	}
}

func TestMySQLDSNParsesTime(t *testing.T) {
	dsn, err := mysqlDialect{}.dsn("root@tcp(127.0.0.1:3306)/test")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dsn, "parseTime=true") {
		t.Errorf("dsn %q lacks parseTime=true", dsn)
	}
}
