package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/seed331fb32b/chorus/node/api"
	"github.com/seed331fb32b/chorus/node/app"
	"github.com/seed331fb32b/chorus/node/bind"
	"github.com/seed331fb32b/chorus/node/cluster"
	"github.com/seed331fb32b/chorus/node/config"
	"github.com/seed331fb32b/chorus/node/jobs"
	"github.com/seed331fb32b/chorus/node/store"
	"github.com/seed331fb32b/chorus/node/ws"
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
// With ClusterSettings.Enable the node joins its cluster (node/cluster)
// once it listens, before logging [ReadyMessage]: its WebSocket events,
// session, user, membership and status changes reach the other nodes. The
// job scheduler (node/jobs) runs on every node and schedules while the
// node leads (always, alone) and JobSettings.RunScheduler is on.
//
// When ctx is cancelled Run announces the node draining, closes its
// WebSockets (in a cluster, keeping their connections until the nodes
// their clients reconnected to took them, up to ws.Config.DrainTimeout;
// see [ws.Hub.Drain]), stops accepting connections, waits up to [ShutdownTimeout]
// for running requests, stops the scheduler, leaves the cluster (removing
// its ClusterDiscovery row), closes the database and returns nil. It returns an error, on one line, when the node cannot start or
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

	ln, err := net.Listen("tcp", cfg.ServiceSettings.ListenAddress)
	if err != nil {
		return fmt.Errorf("listening on ServiceSettings.ListenAddress %q: %w", cfg.ServiceSettings.ListenAddress, err)
	}
	defer ln.Close() // after a failed start; Shutdown closes it otherwise

	var cl *cluster.Cluster
	if cfg.ClusterSettings.Enable {
		if cl, err = newCluster(ctx, cfg, st, a, hub, ln.Addr(), logger.Named("cluster")); err != nil {
			return err
		}
	}
	sched, err := newScheduler(a, st, cl, logger.Named("jobs"))
	if err != nil {
		return err
	}
	var opts []api.Option
	opts = append(opts, api.WithJobs(jobList{sched}))
	if cl != nil {
		opts = append(opts, api.WithCluster(clusterStatus{cl: cl, rows: st.ClusterDiscovery(), name: cfg.ClusterSettings.ClusterName}))
	}
	srv := &http.Server{
		Handler: api.New(a, hub, version(), logger, opts...),
		// Slow or idle clients must not hold connections forever; no write
		// timeout, since WebSocket connections will live for hours.
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       60 * time.Second, // Mattermost's ServiceSettings.IdleTimeout default
		ErrorLog:          zap.NewStdLog(logger.Named("http")),
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	stopHTTP := func() {
		_ = srv.Close()
		<-served
	}
	readyFields := []zap.Field{
		zap.String("address", ln.Addr().String()),
		zap.String("node_id", a.NodeID()),
		zap.String("driver", cfg.SqlSettings.DriverName),
	}
	if cl != nil {
		// The cluster starts once the API answers: the address it
		// announces must work as soon as a peer or the front door sees it.
		if err := cl.Start(ctx); err != nil {
			stopHTTP()
			return fmt.Errorf("joining cluster %q: %w", cfg.ClusterSettings.ClusterName, err)
		}
		defer func() {
			// Before the store closes: the clean leave deletes this
			// node's ClusterDiscovery row.
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
			defer cancel()
			if serr := cl.Stop(stopCtx); serr != nil {
				logger.Warn("Cannot leave the cluster cleanly", zap.Error(serr))
			}
		}()
		readyFields = append(readyFields, zap.String("cluster", cfg.ClusterSettings.ClusterName),
			zap.Bool("leader", cl.IsLeader()), zap.Int("members", len(cl.Members())))
	}
	sched.Start()
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
		defer cancel()
		if serr := sched.Stop(stopCtx); serr != nil {
			logger.Warn("Cannot stop the job scheduler cleanly", zap.Error(serr))
		}
	}()
	logger.Info(ReadyMessage, readyFields...)

	select {
	case err := <-served:
		// Serve only returns early on a listener failure.
		return fmt.Errorf("serving HTTP: %w", err)
	case <-ctx.Done():
	}

	logger.Info("Stopping node", zap.String("node_id", a.NodeID()))
	if cl != nil {
		// The front door stops sending new requests to a draining node;
		// the node stays in the cluster (events, queue hand-over) until
		// its requests are done.
		drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		if err := cl.SetState(drainCtx, cluster.StateDraining); err != nil {
			logger.Warn("Cannot announce draining", zap.Error(err))
		}
		cancel()
	}
	// Server.Shutdown neither closes nor waits for hijacked connections:
	// close the WebSockets first, so their clients reconnect elsewhere
	// while this node finishes its requests. In a cluster with other
	// nodes, the connections stay until the nodes the clients reconnected
	// to took their queues (the cluster still answers) or
	// ws.Config.DrainTimeout passes, so no event is lost.
	if cl != nil && len(cl.Members()) > 1 {
		if err := hub.Drain(context.WithoutCancel(ctx)); err != nil {
			logger.Info("Stopping with WebSocket connections no other node took", zap.Error(err))
		}
	}
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

// newCluster builds the node's cluster membership, not yet started: the
// ClusterDiscovery and Systems accessors of st, the hub's sockets, the
// app's inter-node events, and a leader-change log line. The node
// announces the API address its listener got.
func newCluster(ctx context.Context, cfg *config.Config, st *store.Store, a *app.App, hub *ws.Hub,
	listen net.Addr, logger *zap.Logger) (*cluster.Cluster, error) {
	apiAddr, err := cluster.APIAddress(cfg.ClusterSettings, listen)
	if err != nil {
		return nil, fmt.Errorf("choosing the API address to announce: %w", err)
	}
	schema, err := st.System().Get(ctx, store.SchemaVersionKey)
	if err != nil {
		return nil, fmt.Errorf("reading the schema version: %w", err)
	}
	ccfg := cluster.DefaultConfig()
	ccfg.Settings = cfg.ClusterSettings
	ccfg.NodeID = a.NodeID()
	ccfg.Version = version()
	ccfg.SchemaVersion = schema
	ccfg.ConfigHash = cluster.ConfigHash(cfg)
	ccfg.APIAddress = apiAddr
	cl, err := cluster.New(ccfg, cluster.Deps{
		Discovery: st.ClusterDiscovery(),
		System:    st.System(),
		Hub:       hub,
		Logger:    logger,
	})
	if err != nil {
		return nil, fmt.Errorf("ClusterSettings: %w", err)
	}
	for event, fn := range a.ClusterHandlers() {
		cl.Handle(event, fn)
	}
	cl.OnLeaderChange(func(leaderID string, isLeader bool) {
		logger.Info("Cluster leader changed", zap.String("leader", leaderID), zap.Bool("this_node", isLeader))
	})
	a.SetCluster(cl)
	hub.SetCluster(cl)
	return cl, nil
}

// newScheduler builds the node's job scheduler with the built-in jobs: it
// schedules while cl says this node leads (always, without a cluster) and
// JobSettings.RunScheduler is on, and wakes up when this node becomes the
// leader.
func newScheduler(a *app.App, st *store.Store, cl *cluster.Cluster, logger *zap.Logger) (*jobs.Scheduler, error) {
	jcfg := jobs.DefaultConfig()
	jcfg.RunScheduler = a.Config().JobSettings.RunScheduler
	jcfg.NodeID = a.NodeID()
	deps := jobs.Deps{Store: st.Jobs(), Logger: logger}
	if cl != nil {
		deps.Leader = cl // a nil *Cluster must not become a non-nil Leadership
	}
	sched, err := jobs.New(jcfg, deps,
		jobs.ExpiredSessionsCleanup(st.Sessions()),
		jobs.ClusterDiscoveryCleanup(st.ClusterDiscovery(), cluster.DefaultConfig().OfflineAfter),
		jobs.DataRetention(st.Posts(), func() config.DataRetentionSettings { return a.Config().DataRetentionSettings }),
	)
	if err != nil {
		return nil, fmt.Errorf("building the job scheduler: %w", err)
	}
	if cl != nil {
		cl.OnLeaderChange(func(_ string, isLeader bool) {
			if isLeader {
				sched.Wake()
			}
		})
	}
	return sched, nil
}

// clusterStatus adapts the cluster's status to the API's, adding the nodes
// that are down: those whose ClusterDiscovery row was pinged within
// downWindow but whose gossip address is no live member's.
type clusterStatus struct {
	cl   *cluster.Cluster
	rows *store.ClusterDiscoveryStore
	name string // ClusterSettings.ClusterName
}

// downWindow is how long a node that stopped without leaving is listed as
// down: two heartbeats of its ClusterDiscovery row (Mattermost's
// DiscoveryServiceWritePing is a minute), after which the row is stale.
var downWindow = 2 * cluster.DefaultConfig().PingInterval

func (c clusterStatus) Status(ctx context.Context, includeDown bool) []api.ClusterNode {
	infos := c.cl.Status(ctx)
	out := make([]api.ClusterNode, 0, len(infos))
	live := make(map[string]bool, len(infos))
	for _, n := range infos {
		live[n.IPAddress] = true
		out = append(out, api.ClusterNode{
			ID: n.ID, Version: n.Version, SchemaVersion: n.SchemaVersion, ConfigHash: n.ConfigHash,
			IPAddress: n.IPAddress, Hostname: n.Hostname, API: n.API, State: n.State, Leader: n.Leader,
			Self: n.Self, ClockOffsetMillis: n.ClockOffsetMillis, ClockSkew: n.ClockSkew,
			WebSocketCount: n.WebSocketCount, Reachable: n.Reachable,
		})
	}
	if !includeDown {
		return out
	}
	rows, err := c.rows.GetAll(ctx, cluster.Type, c.name, time.Now().Add(-downWindow).UnixMilli())
	if err != nil {
		return out // the live nodes still show; the page marks nothing down
	}
	for _, r := range rows {
		addr := net.JoinHostPort(r.Hostname, strconv.Itoa(r.GossipPort))
		if live[addr] {
			continue
		}
		live[addr] = true
		out = append(out, api.ClusterNode{IPAddress: addr, Hostname: r.Hostname, State: api.StateDown})
	}
	return out
}

// jobList adapts the scheduler's list to the API's.
type jobList struct{ s *jobs.Scheduler }

func (j jobList) List(ctx context.Context, jobType, status string, page, perPage int) ([]api.Job, error) {
	rows, err := j.s.List(ctx, jobs.Filter{Type: jobType, Status: status, Page: page, PerPage: perPage})
	if err != nil {
		return nil, err
	}
	out := make([]api.Job, 0, len(rows))
	for _, r := range rows {
		data := r.Data
		if data == nil {
			data = map[string]string{}
		}
		out = append(out, api.Job{ID: r.ID, Type: r.Type, Priority: r.Priority, CreateAt: r.CreateAt,
			StartAt: r.StartAt, LastActivityAt: r.LastActivityAt, Status: r.Status, Progress: r.Progress, Data: data})
	}
	return out, nil
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
	_ app.Cluster     = (*cluster.Cluster)(nil)
	_ jobs.Leadership = (*cluster.Cluster)(nil)
)
