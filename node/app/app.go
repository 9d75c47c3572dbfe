package app

import (
	"context"
	"runtime"
	"time"

	"go.uber.org/zap"

	"github.com/seed331fb32b/chorus/node/config"
)

// SystemStore is what the app needs of Mattermost's Systems table. The
// node's store satisfies it. Calls may run concurrently, do I/O and block
// until ctx ends; arguments are not kept.
type SystemStore interface {
	// SaveOrUpdate sets the value of name, inserting the row if missing.
	SaveOrUpdate(ctx context.Context, name, value string) error
	// PermanentDeleteByName deletes the row of name; a missing row is not
	// an error.
	PermanentDeleteByName(ctx context.Context, name string) error
}

// App holds the node's rules and the dependencies they use. It is safe for
// concurrent use; make one with [New].
type App struct {
	// system reaches the Systems table on the master database.
	system SystemStore
	// nodeID identifies this node process; random, made at start.
	nodeID string
	// goroutineHealthThreshold is ServiceSettings.GoroutineHealthThreshold.
	goroutineHealthThreshold int
	// logger receives health warnings.
	logger *zap.Logger
	// now and numGoroutine are the clock and goroutine counter, replaced in
	// tests.
	now          func() time.Time
	numGoroutine func() int
}

// New returns an App using system for the Systems table and the health
// settings of service, with a new random node id. A nil logger discards
// logs. service is copied.
func New(system SystemStore, service config.ServiceSettings, logger *zap.Logger) *App {
	if logger == nil {
		logger = zap.NewNop()
	}
	return &App{
		system:                   system,
		nodeID:                   NewID(),
		goroutineHealthThreshold: service.GoroutineHealthThreshold,
		logger:                   logger,
		now:                      time.Now,
		numGoroutine:             runtime.NumGoroutine,
	}
}

// NodeID returns this node's 26-character id, fixed for the App's life.
func (a *App) NodeID() string { return a.nodeID }
