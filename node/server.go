package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/seed331fb32b/chorus/node/api"
	"github.com/seed331fb32b/chorus/node/app"
	"github.com/seed331fb32b/chorus/node/bind"
	"github.com/seed331fb32b/chorus/node/config"
	"github.com/seed331fb32b/chorus/node/store"
)

// ReadyMessage is the message of the info log entry [Run] writes once the
// node accepts requests. Its fields are "address" (the listening host:port)
// and "node_id". Scripts and tests wait for it.
const ReadyMessage = "node ready"

// ShutdownTimeout bounds the graceful shutdown: requests still running after
// it are cut off.
const ShutdownTimeout = 10 * time.Second

// Run runs one app node until ctx is cancelled: it loads the config at
// configPath (with MM_* environment overrides), opens the database (master,
// read and search replicas) and migrates it, builds the app and its API,
// and serves HTTP on ServiceSettings.ListenAddress, logging [ReadyMessage]
// once listening. POST /api/v4/config/reload reads configPath again.
//
// When ctx is cancelled Run stops accepting connections, waits up to
// [ShutdownTimeout] for running requests, closes the database and returns
// nil. It returns an error, on one line, when the node cannot start or
// stops for another reason. A nil logger discards logs.
func Run(ctx context.Context, configPath string, logger *zap.Logger) error {
	if logger == nil {
		logger = zap.NewNop()
	}
	err := run(ctx, configPath, logger)
	if err != nil {
		return &lineError{err: err}
	}
	return nil
}

func run(ctx context.Context, configPath string, logger *zap.Logger) (err error) {
	cfg, err := config.Load(configPath)
	if err != nil {
		return fmt.Errorf("loading config: %w", err)
	}
	for _, setting := range cfg.EnvOverrides() {
		logger.Info("Setting taken from the environment", zap.String("setting", setting))
	}

	st, err := store.Open(ctx, cfg.SqlSettings, logger.Named("store"))
	if err != nil {
		return err
	}
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing database: %w", cerr)
		}
	}()

	a := app.New(app.Deps{
		Config:     cfg,
		ConfigPath: configPath,
		System:     st.System(),
		Database:   st,
		Stores:     bind.Stores(st),
		Logger:     logger,
	})
	hub, err := api.NewHub(a, api.HubConfig(a, version()), logger.Named("ws"))
	if err != nil {
		return fmt.Errorf("starting the WebSocket hub: %w", err)
	}
	defer hub.Close() // after a failed start; a stop closes it first (below)
	srv := &http.Server{
		Handler: api.New(a, hub, version(), logger),
		// Slow or idle clients must not hold connections forever; no write
		// timeout, since WebSocket connections will live for hours.
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       60 * time.Second, // Mattermost's ServiceSettings.IdleTimeout default
		ErrorLog:          zap.NewStdLog(logger.Named("http")),
	}
	ln, err := net.Listen("tcp", cfg.ServiceSettings.ListenAddress)
	if err != nil {
		return fmt.Errorf("listening on ServiceSettings.ListenAddress %q: %w", cfg.ServiceSettings.ListenAddress, err)
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info(ReadyMessage,
		zap.String("address", ln.Addr().String()),
		zap.String("node_id", a.NodeID()),
		zap.String("driver", cfg.SqlSettings.DriverName))

	select {
	case err := <-served:
		// Serve only returns early on a listener failure.
		return fmt.Errorf("serving HTTP: %w", err)
	case <-ctx.Done():
	}

	logger.Info("Stopping node", zap.String("node_id", a.NodeID()))
	// Server.Shutdown neither closes nor waits for hijacked connections:
	// close the WebSockets first, so their clients reconnect elsewhere
	// while this node finishes its requests.
	_ = hub.Close()
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutting down HTTP within %s: %w", ShutdownTimeout, err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving HTTP: %w", err)
	}
	logger.Info("Node stopped", zap.String("node_id", a.NodeID()))
	return nil
}

// version is the module version the binary was built from, or "dev".
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// lineError keeps an error's message on one line (driver errors such as
// pgx's may span several), so a fatal log line or a shell shows all of it.
type lineError struct{ err error }

func (e *lineError) Error() string {
	var b strings.Builder
	for line := range strings.Lines(e.err.Error()) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if b.Len() > 0 {
			if strings.HasSuffix(b.String(), ":") {
				b.WriteString(" ")
			} else {
				b.WriteString("; ")
			}
		}
		b.WriteString(line)
	}
	return b.String()
}

func (e *lineError) Unwrap() error { return e.err }

// The store is what the app needs of the database.
var (
	_ app.SystemStore = (*store.SystemStore)(nil)
	_ app.Database    = (*store.Store)(nil)
)
