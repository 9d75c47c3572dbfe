package app

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/seed331fb32b/chorus/node/config"
)

// ReloadConfig reads the node's config.json again, as Mattermost's
// POST /api/v4/config/reload does, and makes it the current configuration
// ([App.Config]). MM_* environment variables still override the file, and
// are still never written to it (config.Load). On error the current
// configuration stays.
//
// What takes effect when: ServiceSettings.GoroutineHealthThreshold at once;
// SqlSettings (new DSNs included) at the next [App.RecycleDatabase];
// everything else, such as the listen address, at the next start.
func (a *App) ReloadConfig(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("reloading config: %w", err)
	}
	if a.configPath == "" {
		return errors.New("reloading config: the node was started without a config file")
	}
	cfg, err := config.Load(a.configPath)
	if err != nil {
		return fmt.Errorf("reloading config: %w", err)
	}
	a.config.Store(cfg)
	a.logger.Info("Config reloaded", zap.String("path", a.configPath),
		zap.Strings("environment_overrides", cfg.EnvOverrides()))
	if c := a.clusterOf(); c != nil {
		if err := c.ConfigChanged(ctx, cfg); err != nil {
			a.logger.Warn("Cannot announce the new config hash to the cluster", zap.Error(err))
		}
	}
	return nil
}

// RecycleDatabase replaces the database connection pools with new ones
// built from the current configuration's SqlSettings, as Mattermost's
// POST /api/v4/database/recycle does: statements in flight finish on the
// old pools, new ones run on the new. After [App.ReloadConfig] with a new
// SqlSettings.DataSource, it is the manual failover to a new master, with
// no restart. On error the current pools stay. ctx bounds opening the new
// pools and the wait for the old ones to drain.
func (a *App) RecycleDatabase(ctx context.Context) error {
	if a.database == nil {
		return errors.New("recycling database connections: the node has no database to recycle")
	}
	return a.database.Recycle(ctx, a.Config().SqlSettings)
}

// RequireSystemAdmin returns nil when s belongs to a system admin, else
// Mattermost's 403 naming permission (the admin endpoints' own
// permissions: manage_system, reload_config,
// recycle_database_connections; only system_admin has them).
func (a *App) RequireSystemAdmin(s *Session, permission string) error {
	if s.IsSystemAdmin() {
		return nil
	}
	userID := ""
	if s != nil {
		userID = s.UserID
	}
	return forbidden(userID, permission)
}

// SanitizedConfig returns the node's configuration for
// GET /api/v4/config, to system admins only, with every data source
// replaced by config.FakeSetting, as Mattermost's Config.Sanitize does.
func (a *App) SanitizedConfig(s *Session) (*config.Config, error) {
	if err := a.RequireSystemAdmin(s, "manage_system"); err != nil {
		return nil, err
	}
	return a.Config().Sanitized(), nil
}
