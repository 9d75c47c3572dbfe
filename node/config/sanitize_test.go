package config

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSanitizedHidesEveryDataSource(t *testing.T) {
	c := DefaultConfig()
	c.SqlSettings.DriverName = DriverPostgres
	c.SqlSettings.DataSource = "postgres://mm:hunter2@db/mm"
	c.SqlSettings.DataSourceReplicas = []string{"postgres://mm:hunter3@r1/mm"}
	c.SqlSettings.DataSourceSearchReplicas = []string{"postgres://mm:hunter4@s1/mm"}

	s := c.Sanitized()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hunter2", "hunter3", "hunter4"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("sanitized config still holds %q: %s", secret, b)
		}
	}
	if s.SqlSettings.DataSource != FakeSetting || s.SqlSettings.DataSourceReplicas[0] != FakeSetting ||
		s.SqlSettings.DataSourceSearchReplicas[0] != FakeSetting {
		t.Errorf("sanitized SqlSettings = %+v", s.SqlSettings)
	}
	if c.SqlSettings.DataSource != "postgres://mm:hunter2@db/mm" || c.SqlSettings.DataSourceReplicas[0] != "postgres://mm:hunter3@r1/mm" {
		t.Error("Sanitized modified the original")
	}
	if s.SqlSettings.DriverName != DriverPostgres || s.ServiceSettings != c.ServiceSettings {
		t.Error("Sanitized changed settings that are not secret")
	}
}

func TestSanitizedKeepsEmptyValuesEmpty(t *testing.T) {
	c := DefaultConfig()
	c.SqlSettings.DataSource = ""
	s := c.Sanitized()
	if s.SqlSettings.DataSource != "" || len(s.SqlSettings.DataSourceReplicas) != 0 {
		t.Errorf("sanitized SqlSettings = %+v", s.SqlSettings)
	}
}
