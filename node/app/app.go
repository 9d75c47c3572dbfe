package app

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	gocache "github.com/patrickmn/go-cache"
	"go.uber.org/zap"
	"golang.org/x/crypto/bcrypt"

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
	// Stores reach the chat's tables (users, sessions, teams, channels,
	// posts, statuses). Required for every chat method; an App without them
	// still answers health checks and config reloads. Either all or none
	// must be set.
	Stores Stores
	// PasswordCost is the bcrypt cost of new password hashes. Zero means
	// bcrypt.DefaultCost (10, Mattermost's). Lower: faster sign-ups and
	// logins, cheaper guessing of a stolen hash; tests use bcrypt.MinCost.
	PasswordCost int
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
	// stores reach the chat's tables; see Deps.Stores.
	stores Stores
	// passwordCost is the bcrypt cost of new hashes.
	passwordCost int
	// rt is the WebSocket hub events go to; nil until SetRealtime.
	rt atomic.Pointer[realtimeRef]
	// cluster is the node's cluster; nil until SetCluster, or alone.
	cluster atomic.Pointer[clusterRef]

	// sessions caches *Session by token, each for SessionCacheInMinutes
	// (at most until it expires), so a request does not read its session
	// from the database. go-cache locks internally.
	sessions *gocache.Cache
	// users caches *User by id for userCacheTTL: who a post's sender is.
	users *gocache.Cache
	// channels caches *Channel by id for channelCacheTTL: a post's channel.
	// Only fields that never change after creation are read from it.
	channels *gocache.Cache
	// members caches membership snapshots (map[string]struct{}, never
	// modified) by "c:"+channel id and "t:"+team id, for memberCacheTTL.
	members *gocache.Cache

	statusMu sync.Mutex             // guards statuses
	statuses map[string]*UserStatus // every status this node has read or set, by user; values never modified

	// lastPostAt is the CreateAt of the last post made on this node, so
	// posts made here get strictly increasing times.
	lastPostAt atomic.Int64
	// now and numGoroutine are the clock and goroutine counter, replaced in
	// tests.
	now          func() time.Time
	numGoroutine func() int
}

// Lifetimes of the app's caches. In a cluster, other nodes' changes drop
// the entries at once (cluster.go); alone, or when a message is lost, they
// reach this node's caches when an entry expires.
const (
	// userCacheTTL bounds how stale a cached user may be.
	userCacheTTL = time.Minute
	// channelCacheTTL bounds how stale a cached channel may be.
	channelCacheTTL = time.Minute
	// memberCacheTTL bounds how long a membership snapshot is used: a user
	// added on another node receives the channel's events on this node's
	// sockets after at most this long. Changes made on this node apply at
	// once.
	memberCacheTTL = time.Minute
)

// New returns an App with the dependencies and settings of d and a new
// random node id. It panics when d.Config or d.System is nil, or when
// d.Stores is only partly set: wiring mistakes.
func New(d Deps) *App {
	if d.Config == nil || d.System == nil {
		panic("app.New: Deps.Config and Deps.System are required")
	}
	if !d.Stores.complete() && !d.Stores.empty() {
		panic("app.New: Deps.Stores must be set whole or not at all")
	}
	if d.Logger == nil {
		d.Logger = zap.NewNop()
	}
	if d.PasswordCost == 0 {
		d.PasswordCost = bcrypt.DefaultCost
	}
	a := &App{
		system:       d.System,
		database:     d.Database,
		configPath:   d.ConfigPath,
		nodeID:       NewID(),
		logger:       d.Logger,
		now:          time.Now,
		numGoroutine: runtime.NumGoroutine,
		stores:       d.Stores,
		passwordCost: d.PasswordCost,
		sessions:     gocache.New(10*time.Minute, 10*time.Minute),
		users:        gocache.New(userCacheTTL, 10*time.Minute),
		channels:     gocache.New(channelCacheTTL, 10*time.Minute),
		members:      gocache.New(memberCacheTTL, 10*time.Minute),
		statuses:     make(map[string]*UserStatus),
	}
	a.config.Store(d.Config)
	return a
}

// NodeID returns this node's 26-character id, fixed for the App's life.
func (a *App) NodeID() string { return a.nodeID }

// Config returns the node's current configuration. It is shared: the
// caller must not modify it.
func (a *App) Config() *config.Config { return a.config.Load() }

// nowMillis returns the current time in Unix milliseconds, Mattermost's
// model.GetMillis.
func (a *App) nowMillis() int64 { return a.now().UnixMilli() }
