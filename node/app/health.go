package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"go.uber.org/zap"
)

// Health values, Mattermost's model.StatusOk and model.StatusUnhealthy.
const (
	StatusOK        = "OK"
	StatusUnhealthy = "UNHEALTHY"
)

// Status is the node's health as GET /api/v4/system/ping reports it.
type Status struct {
	// Status is StatusOK or StatusUnhealthy: unhealthy when the goroutine
	// threshold is reached or, if it was checked, the database failed.
	Status string
	// DatabaseStatus is StatusOK or StatusUnhealthy when the database was
	// checked, "" when it was not.
	DatabaseStatus string
}

// OK reports whether the node is healthy overall.
func (s Status) OK() bool { return s.Status == StatusOK }

// Healthy returns the node's health. It is unhealthy when
// ServiceSettings.GoroutineHealthThreshold is positive and the process runs
// that many goroutines or more. With withServerStatus it also runs
// [App.CheckDatabase], and a failure makes it unhealthy. Failures are logged
// at warn level, as Mattermost does. ctx bounds the database check.
func (a *App) Healthy(ctx context.Context, withServerStatus bool) Status {
	st := Status{Status: StatusOK}
	if t := a.Config().ServiceSettings.GoroutineHealthThreshold; t > 0 {
		if n := a.numGoroutine(); n >= t {
			a.logger.Warn("The number of running goroutines is over the health threshold",
				zap.Int("goroutines", n), zap.Int("health_threshold", t))
			st.Status = StatusUnhealthy
		}
	}
	if withServerStatus {
		st.DatabaseStatus = StatusOK
		if err := a.CheckDatabase(ctx); err != nil {
			a.logger.Warn("Database health check failed.", zap.Error(err))
			st.DatabaseStatus = StatusUnhealthy
			st.Status = StatusUnhealthy
		}
	}
	return st
}

// healthCheckKey is the Systems row this node writes to check the database:
// one per node, so concurrent checks of several nodes never collide
// (Mattermost's dbHealthCheckKey, there per cluster id).
func (a *App) healthCheckKey() string { return "health_check_" + a.nodeID }

// CheckDatabase is Mattermost's database health check: it writes the
// Systems row health_check_<node id> with the current Unix time, then
// deletes it, both on the master. As in Mattermost, the delete runs even
// when the write failed, and the error reports both. ctx bounds both calls.
func (a *App) CheckDatabase(ctx context.Context) error {
	key := a.healthCheckKey()
	var errs []error
	if err := a.system.SaveOrUpdate(ctx, key, strconv.FormatInt(a.now().Unix(), 10)); err != nil {
		errs = append(errs, fmt.Errorf("writing health check row: %w", err))
	}
	if err := a.system.PermanentDeleteByName(ctx, key); err != nil {
		errs = append(errs, fmt.Errorf("deleting health check row: %w", err))
	}
	return errors.Join(errs...)
}
