package app

import (
	"context"
	"runtime"
	"sync/atomic"
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

// Database is what the app needs to manage the node's database
// connections. The node's store satisfies it. Calls may run concurrently
// and block until ctx ends; settings is not kept.
type Database interface {
	// Recycle replaces every connection pool with new ones built from
	// settings, letting statements in flight finish on the old ones. On
	// error the current pools stay.
	Recycle(ctx context.Context, settings config.SqlSettings) error
}

// Deps are an App's dependencies and starting settings, given to [New].
type Deps struct {
	// Config is the node's configuration at start, as config.Load returned
	// it. Required. The App never modifies it; [App.ReloadConfig] replaces
	// it with a newly loaded one.
	Config *config.Config
	// ConfigPath is the config.json [App.ReloadConfig] reads again. Empty
	// makes ReloadConfig fail.
	ConfigPath string
	// System reaches the Systems table on the master database. Required.
	System SystemStore
	// Database recycles the connection pools. Nil makes
	// [App.RecycleDatabase] fail.
	Database Database
	// Logger receives health warnings and config and database events. Nil
	// discards them.
	Logger *zap.Logger
}

// App holds the node's rules and the dependencies they use. It is safe for
// concurrent use; make one with [New].
type App struct {
	// system reaches the Systems table on the master database.
	system SystemStore
	// database recycles the connection pools; may be nil.
	database Database
	// configPath is the file ReloadConfig reads; may be "".
	configPath string
	// config is the current configuration; replaced whole by
	// ReloadConfig, never modified.
	config atomic.Pointer[config.Config]
	// nodeID identifies this node process; random, made at start.
	nodeID string
	// logger receives health warnings and config and database events.
	logger *zap.Logger
	// now and numGoroutine are the clock and goroutine counter, replaced in
	// tests.
	now          func() time.Time
	numGoroutine func() int
}

// New returns an App with the dependencies and settings of d and a new
// random node id. It panics when d.Config or d.System is nil, a wiring
// mistake.
func New(d Deps) *App {
	if d.Config == nil || d.System == nil {
		panic("app.New: Deps.Config and Deps.System are required")
	}
	if d.Logger == nil {
		d.Logger = zap.NewNop()
	}
	a := &App{
		system:       d.System,
		database:     d.Database,
		configPath:   d.ConfigPath,
		nodeID:       NewID(),
		logger:       d.Logger,
		now:          time.Now,
		numGoroutine: runtime.NumGoroutine,
	}
	a.config.Store(d.Config)
	return a
}

// NodeID returns this node's 26-character id, fixed for the App's life.
func (a *App) NodeID() string { return a.nodeID }

// Config returns the node's current configuration. It is shared: the
// caller must not modify it.
func (a *App) Config() *config.Config { return a.config.Load() }
