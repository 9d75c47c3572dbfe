package config

import "slices"

// FakeSetting replaces a secret in [Config.Sanitized], Mattermost's
// model.FakeSetting.
const FakeSetting = "********************************"

// Sanitized returns a deep copy of c with its secrets replaced by
// [FakeSetting], as Mattermost's Config.Sanitize does for
// GET /api/v4/config: SqlSettings.DataSource and every read and search
// replica DSN (they may hold passwords). Empty values stay empty. c is not
// modified.
func (c *Config) Sanitized() *Config {
	out := *c
	out.envOverrides = slices.Clone(c.envOverrides)
	sql := &out.SqlSettings
	if sql.DataSource != "" {
		sql.DataSource = FakeSetting
	}
	sql.DataSourceReplicas = fakeAll(sql.DataSourceReplicas)
	sql.DataSourceSearchReplicas = fakeAll(sql.DataSourceSearchReplicas)
	return &out
}

// fakeAll returns a new slice with every element of dsns replaced by
// FakeSetting; nil stays nil.
func fakeAll(dsns []string) []string {
	if dsns == nil {
		return nil
	}
	out := make([]string, len(dsns))
	for i := range out {
		out[i] = FakeSetting
	}
	return out
}
