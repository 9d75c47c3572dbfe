package store

import (
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/seed331fb32b/chorus/node/config"
)

// tcpProxy forwards connections from a loopback port to a database server,
// so a test can make a replica vanish (Stop closes the port and cuts every
// connection, as a crashed host's kernel would) and return on the same port
// (Start). It stands between real drivers and a real server.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string // fixed at the first Start

	mu    sync.Mutex // guards ln and conns
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// startProxy starts a proxy to target on a free loopback port, stopped when
// the test ends.
func startProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{t: t, target: target, addr: "127.0.0.1:0", conns: map[net.Conn]struct{}{}}
	p.Start()
	t.Cleanup(p.Stop)
	return p
}

// Start listens on the proxy's port (the same one after a Stop) and serves.
func (p *tcpProxy) Start() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy listen on %s: %v", p.addr, err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	p.wg.Go(func() { p.serve(ln) })
}

func (p *tcpProxy) serve(ln net.Listener) {
	for {
		client, err := ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		if p.ln != ln { // stopped meanwhile
			p.mu.Unlock()
			client.Close()
			server.Close()
			return
		}
		p.conns[client], p.conns[server] = struct{}{}, struct{}{}
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			_, _ = io.Copy(dst, src)
			dst.Close()
			src.Close()
		}
		p.wg.Go(func() { pipe(server, client) })
		p.wg.Go(func() { pipe(client, server) })
	}
}

// Stop closes the port and every forwarded connection, and waits for the
// proxy's goroutines. Stopping a stopped proxy does nothing.
func (p *tcpProxy) Stop() {
	p.mu.Lock()
	ln := p.ln
	p.ln = nil
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
	p.mu.Unlock()
	if ln != nil {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			p.t.Errorf("proxy close: %v", err)
		}
	}
	p.wg.Wait()
}

// viaProxy returns dataSource of driver with its server address replaced
// by a new proxy's, and the proxy.
func viaProxy(t *testing.T, driver, dataSource string) (string, *tcpProxy) {
	t.Helper()
	switch driver {
	case config.DriverPostgres:
		u, err := url.Parse(dataSource)
		if err != nil {
			t.Fatal(err)
		}
		p := startProxy(t, u.Host)
		u.Host = p.addr
		return u.String(), p
	case config.DriverMySQL:
		cfg, err := mysql.ParseDSN(dataSource)
		if err != nil {
			t.Fatal(err)
		}
		p := startProxy(t, cfg.Addr)
		cfg.Addr = p.addr
		return cfg.FormatDSN(), p
	}
	t.Fatalf("no proxy for %s", driver)
	return "", nil
}

// TestReplicaVanishes cuts a replica off mid-traffic on the network, for
// both server drivers: reads in a loop never fail, the replica goes out of
// rotation, and once reachable again it is back within two monitor probes.
// (TestReplicaFailover does the same with a real PostgreSQL replica being
// shut down.)
func TestReplicaVanishes(t *testing.T) {
	for _, driver := range []string{config.DriverPostgres, config.DriverMySQL} {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			settings := testSettings(t, driver)
			replica, proxy := viaProxy(t, driver, settings.DataSource)
			settings.DataSourceReplicas = []string{replica}
			settings.ReplicaMonitorIntervalSeconds = 1
			s := openWith(t, settings)
			channel := &Channel{ID: "vanish", Name: "vanish", Type: "O"}
			if err := s.Channels().Save(t.Context(), channel); err != nil {
				t.Fatal(err)
			}
			readers := startReaders(t, s, channel.ID, 4)
			stats := func() PoolStats { return poolStats(t, s, RoleReplica, 0) }
			waitFor(t, "reads on the replica", func() bool { return stats().Queries > 50 })

			proxy.Stop()
			waitFor(t, "the replica out of rotation", func() bool { return !stats().Online })
			master := poolStats(t, s, RoleMaster, 0).Queries
			waitFor(t, "reads on the master", func() bool { return poolStats(t, s, RoleMaster, 0).Queries > master+50 })

			proxy.Start()
			probes := stats().Probes
			waitFor(t, "the replica back in rotation", func() bool { return stats().Online })
			if got := stats().Probes - probes; got > 2 {
				t.Errorf("the replica came back after %d monitor probes, want at most 2", got)
			}
			back := stats().Queries
			waitFor(t, "reads on the replica again", func() bool { return stats().Queries > back+50 })
			readers.halt()
			if errs := readers.failed(); len(errs) > 0 {
				t.Fatalf("%d of %d reads failed; first: %v", len(errs), readers.reads.Load(), errs[0])
			}
			t.Logf("%d reads, none failed; replica %+v", readers.reads.Load(), stats())
		})
	}
}
