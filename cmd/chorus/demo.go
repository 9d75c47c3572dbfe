package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "demo",
		Usage: "[--nodes 3] [--http 127.0.0.1:8080] [--data ./data]",
		Short: "Runs a local Chorus cluster behind the front door",
		Long: `
Runs a local cluster: N app nodes as child processes on 127.0.0.1 (API ports
from --port, gossip ports from --gossip-port), all on one embedded SQLite
database file in the data directory, clustered as "chorus-demo" (gossip on
loopback: posts, typing, statuses and logouts cross nodes, one node leads
the scheduled jobs), and the front door in this process on --http. It
prints the front door's URL, the High Availability page and one status line
per node; each node logs to <data>/node-N/node.log and the front door to
<data>/frontdoor.log. With --discovery gossip (the default) the front door
learns the nodes from their gossip (it joins their memberlist as a proxy
member); with static it gets their list.

Ctrl-C or SIGTERM stops every node and the front door; no process is left
behind.`,
		CobraFunc: func(cmd *cobra.Command) {
			f := cmd.Flags()
			f.Int("nodes", 3, "number of app nodes")
			f.String("http", "127.0.0.1:8080", "the front door's address")
			f.String("data", "./data", "directory for the database, configs and logs")
			f.Int("port", 8065, "API port of the first node; the others follow")
			f.Int("gossip-port", 8074, "gossip port of the first node; the others follow")
			f.String("admin", "localhost:2019", "address of the front door's Caddy admin API")
			f.String("discovery", "gossip", "how the front door finds the nodes: gossip (it joins their memberlist) or static (a list of their addresses)")
			cmd.Args = cobra.NoArgs
			cmd.RunE = runE("demo", runDemo)
		},
	})
}

// demo is one run of "chorus demo".
type demo struct {
	nodes      int
	http       string
	data       string
	port       int
	gossipPort int
	admin      string
	discovery  string // "static" or "gossip"

	children []*child
}

// child is one app node process.
type child struct {
	n      int    // 1-based node number
	addr   string // API address
	config string // config.json path
	log    string // log file path
	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited
	err    error         // the exit status; read it only after done is closed
}

func runDemo(cmd *cobra.Command, _ []string) error {
	f := cmd.Flags()
	d := &demo{}
	d.nodes, _ = f.GetInt("nodes")
	d.http, _ = f.GetString("http")
	d.data, _ = f.GetString("data")
	d.port, _ = f.GetInt("port")
	d.gossipPort, _ = f.GetInt("gossip-port")
	d.admin, _ = f.GetString("admin")
	d.discovery, _ = f.GetString("discovery")
	if d.discovery != "static" && d.discovery != "gossip" {
		return fmt.Errorf("--discovery %q: want static or gossip", d.discovery)
	}
	if d.nodes < 1 || d.nodes > 20 {
		return fmt.Errorf("--nodes %d: want 1 to 20", d.nodes)
	}
	if _, _, err := net.SplitHostPort(d.http); err != nil {
		return fmt.Errorf("--http %q: want host:port: %w", d.http, err)
	}
	if d.port < 1 || d.port+d.nodes > 65536 || d.gossipPort < 1 || d.gossipPort+d.nodes > 65536 {
		return fmt.Errorf("--port %d / --gossip-port %d: ports out of range for %d nodes", d.port, d.gossipPort, d.nodes)
	}
	data, err := filepath.Abs(d.data)
	if err != nil {
		return fmt.Errorf("--data %q: %w", d.data, err)
	}
	d.data = data

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	err = d.run(ctx)
	d.stopChildren()
	if stopErr := caddy.Stop(); stopErr != nil && err == nil {
		err = fmt.Errorf("stopping the front door: %w", stopErr)
	}
	if err == nil {
		fmt.Println("chorus demo: stopped; no process left behind")
	}
	return err
}

// run starts the nodes and the front door, reports, and waits for ctx.
func (d *demo) run(ctx context.Context) error {
	if err := os.MkdirAll(d.data, 0o755); err != nil {
		return fmt.Errorf("creating the data directory: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this binary: %w", err)
	}
	for i := range d.nodes {
		c, err := d.startNode(self, i)
		if err != nil {
			return err
		}
		d.children = append(d.children, c)
	}
	front := "http://" + d.http
	ready := time.Now().Add(30 * time.Second)
	for _, c := range d.children {
		if err := waitReady(ctx, c, ready); err != nil {
			return err
		}
	}
	// The nodes gossip by now, so a front door on gossip finds them at once.
	if err := d.startFrontDoor(); err != nil {
		return err
	}
	if err := waitHTTP(ctx, front, ready); err != nil {
		return fmt.Errorf("front door on %s: %w (log: %s)", d.http, err, filepath.Join(d.data, "frontdoor.log"))
	}
	fmt.Printf("Chorus is up: %s  (ping: %s/api/v4/system/ping, Caddy admin: http://%s)\n", front, front, d.admin)
	fmt.Printf("  High Availability page: %s/admin/cluster (sign in as the first user, the system admin)\n", front)
	for _, c := range d.children {
		fmt.Printf("  node %d  http://%s  pid %d  ready  log %s\n", c.n, c.addr, c.cmd.Process.Pid, c.log)
	}
	fmt.Println("Press Ctrl-C to stop.")

	// Report nodes that die while the demo runs; the front door routes
	// around them.
	for _, c := range d.children {
		go func() {
			select {
			case <-c.done:
				if ctx.Err() == nil {
					fmt.Printf("  node %d  http://%s  exited: %v\n", c.n, c.addr, c.err)
				}
			case <-ctx.Done():
			}
		}()
	}
	<-ctx.Done()
	fmt.Println("chorus demo: stopping")
	return nil
}

// startNode writes node i's config.json and starts it.
func (d *demo) startNode(self string, i int) (*child, error) {
	c := &child{n: i + 1, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(d.port+i)), done: make(chan struct{})}
	dir := filepath.Join(d.data, fmt.Sprintf("node-%d", c.n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("node %d: %w", c.n, err)
	}
	cfg := map[string]any{
		// ListenAddress differs between the nodes: it comes from the
		// environment (below), which the config hash leaves out, so the
		// High Availability page shows the nodes' configs as equal.
		"ServiceSettings": map[string]any{
			"SiteURL": "http://" + d.http,
		},
		"SqlSettings": map[string]any{
			"DriverName": "sqlite",
			"DataSource": filepath.Join(d.data, "chorus.db"),
		},
		// A demo is for trying: anyone may sign up (Mattermost's default
		// lets only the first user, the system admin, in).
		"TeamSettings": map[string]any{
			"EnableOpenServer": true,
		},
		// One cluster on loopback: each node gossips on its own port and
		// finds the others through the ClusterDiscovery table.
		"ClusterSettings": map[string]any{
			"Enable":           true,
			"ClusterName":      "chorus-demo",
			"BindAddress":      "127.0.0.1",
			"AdvertiseAddress": "127.0.0.1",
			"GossipPort":       d.gossipPort + i,
		},
	}
	raw, _ := json.MarshalIndent(cfg, "", "  ")
	c.config = filepath.Join(dir, "config.json")
	if err := os.WriteFile(c.config, raw, 0o644); err != nil {
		return nil, fmt.Errorf("node %d: writing its config: %w", c.n, err)
	}
	c.log = filepath.Join(dir, "node.log")
	logFile, err := os.Create(c.log)
	if err != nil {
		return nil, fmt.Errorf("node %d: %w", c.n, err)
	}
	c.cmd = exec.Command(self, "node", "--config", c.config)
	c.cmd.Env = append(os.Environ(), "MM_SERVICESETTINGS_LISTENADDRESS="+c.addr)
	c.cmd.Stdout, c.cmd.Stderr = logFile, logFile
	c.cmd.SysProcAttr = childProcAttr()
	if err := c.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("node %d: starting: %w", c.n, err)
	}
	go func() {
		err := c.cmd.Wait()
		logFile.Close()
		c.err = err
		close(c.done)
	}()
	return c, nil
}

// startFrontDoor loads the front door's config into this process's Caddy.
// With --discovery gossip the front door joins the nodes' memberlist (as a
// proxy member on a free loopback port) and learns their state from it, on
// top of their list; with static it gets their list only.
func (d *demo) startFrontDoor() error {
	host, port, _ := net.SplitHostPort(d.http)
	var nodes, gossip []string
	for i, c := range d.children {
		nodes = append(nodes, c.addr)
		gossip = append(gossip, net.JoinHostPort("127.0.0.1", strconv.Itoa(d.gossipPort+i)))
	}
	directive := "chorus " + strings.Join(nodes, " ")
	if d.discovery == "gossip" {
		// The nodes are listed too: a node that dies then stays in the
		// front door's table as unhealthy (its probes decide) rather
		// than vanishing with its gossip member, so the table shows it.
		directive = fmt.Sprintf(`chorus %s {
		cluster chorus-demo
		gossip %s {
			bind 127.0.0.1:0
		}
	}`, strings.Join(nodes, " "), strings.Join(gossip, " "))
	}
	caddyfile := fmt.Sprintf(`{
	admin %s
	persist_config off
	log {
		output file %q
	}
}

:%s {
	bind %s
	%s
}
`, d.admin, filepath.Join(d.data, "frontdoor.log"), port, host, directive)
	if err := os.WriteFile(filepath.Join(d.data, "Caddyfile"), []byte(caddyfile), 0o644); err != nil {
		return fmt.Errorf("writing the front door's Caddyfile: %w", err)
	}
	cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		return fmt.Errorf("front door config: %w", err)
	}
	if err := caddy.Load(cfg, true); err != nil {
		return fmt.Errorf("starting the front door on %s: %w", d.http, err)
	}
	return nil
}

// waitReady waits until c answers its ping, c exits, or the deadline.
func waitReady(ctx context.Context, c *child, deadline time.Time) error {
	errc := make(chan error, 1)
	wctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	go func() { errc <- waitHTTP(wctx, "http://"+c.addr, deadline) }()
	select {
	case err := <-errc:
		if err != nil {
			return fmt.Errorf("node %d on %s not ready: %w (log: %s)", c.n, c.addr, err, c.log)
		}
		return nil
	case <-c.done:
		return fmt.Errorf("node %d exited before it was ready: %v (log: %s)", c.n, c.err, c.log)
	}
}

// waitHTTP polls base's ping until it answers 200 or the deadline passes.
func waitHTTP(ctx context.Context, base string, deadline time.Time) error {
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v4/system/ping", nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("ping answered %s", resp.Status)
		}
		last = err
		if time.Now().After(deadline) {
			return fmt.Errorf("no 200 within 30s: %w", last)
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), last)
		case <-tick.C:
		}
	}
}

// stopChildren sends SIGTERM to every live node, waits for them, and kills
// any still running after 15 seconds.
func (d *demo) stopChildren() {
	for _, c := range d.children {
		select {
		case <-c.done:
		default:
			_ = c.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	deadline := time.After(15 * time.Second)
	for _, c := range d.children {
		select {
		case <-c.done:
		case <-deadline:
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	}
}
