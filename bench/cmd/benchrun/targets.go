package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"
)

// Target names, in the order rows are printed.
const (
	tDirect      = "direct"
	tNginxSeed   = "nginx-seed"
	tNginxNoLock = "nginx-nolock"
	tCaddy       = "caddy"
	tChorus      = "chorus"
)

// allTargets lists every target in table order.
var allTargets = []string{tDirect, tNginxSeed, tNginxNoLock, tCaddy, tChorus}

// targetAbout is the one-line legend of each target.
var targetAbout = map[string]string{
	tDirect:      "wrk straight to one backend, no proxy: the limit (CPU column: the backend's own)",
	tNginxSeed:   "Debian's nginx, the Mattermost HA guide's config (proxy_cache, min_uses 2, lock on)",
	tNginxNoLock: "the same NGINX config without proxy_cache_lock",
	tCaddy:       "stock Caddy reverse_proxy, the equivalent Caddyfile (bench/configs/caddy-stock.Caddyfile)",
	tChorus:      "the Chorus front door: the chorus directive (bench/configs/chorus.Caddyfile)",
}

// endpoint is one URL measured with wrk.
type endpoint struct {
	key    string // result key, also the backend's counter name for static files
	path   string
	label  string // section title in the table
	cached bool   // a cache-hit row: measured only where a cache is configured
}

var endpoints = []endpoint{
	{key: "ping", path: "/api/v4/system/ping", label: "GET /api/v4/system/ping (Mattermost ping JSON, no-store)"},
	{key: "api", path: "/api/v4/users/me", label: "GET /api/v4/users/me (1 KB JSON, no-store: uncacheable API call)"},
	{key: "static_2k", path: "/static/app.2k.js", label: "GET /static/app.2k.js (2 KB, max-age: cache hit)", cached: true},
	{key: "static_200k", path: "/static/app.200k.js", label: "GET /static/app.200k.js (200 KB, max-age: cache hit)", cached: true},
}

// wsPath is the backend's WebSocket echo, on the seed's WebSocket route.
const wsPath = "/api/v4/websocket"

// backend is one running bench backend.
type backend struct {
	p    *proc
	addr string
}

// running is a target up and measurable: where to send requests, and which
// process's CPU and memory to read.
type running struct {
	name string
	addr string // host:port
	p    *proc  // the proxy, or for direct the backend
	stop func() // stops the proxy; nothing for direct
}

// startBackend starts one bench backend on a free port.
func (h *harness) startBackend(name string) (*backend, error) {
	line := make(chan string, 1)
	p, err := h.procs.start(name, nil, line, h.cfg.backendBin, "-addr", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	select {
	case l := <-line:
		addr, ok := strings.CutPrefix(l, "listening on ")
		if !ok {
			h.procs.stop(p)
			return nil, fmt.Errorf("%s said %q, not its address:\n%s", name, l, h.procs.logTail(name, 10))
		}
		b := &backend{p: p, addr: addr}
		if err := waitReady(context.Background(), p, "http://"+addr+"/api/v4/system/ping"); err != nil {
			h.procs.stop(p)
			return nil, err
		}
		return b, nil
	case <-time.After(20 * time.Second):
		h.procs.stop(p)
		return nil, fmt.Errorf("%s did not start within 20 s:\n%s", name, h.procs.logTail(name, 10))
	}
}

// start brings target up and waits until it proxies a ping. A failed start
// is tried once more on new ports: a port found free may have been taken
// by someone else's test in between.
func (h *harness) start(ctx context.Context, target string) (*running, error) {
	r, err := h.startOnce(ctx, target)
	if err != nil && ctx.Err() == nil {
		log.Printf("%s did not start, trying again on other ports: %v", target, firstLine(err.Error()))
		r, err = h.startOnce(ctx, target)
	}
	return r, err
}

// startOnce is one attempt of start.
func (h *harness) startOnce(ctx context.Context, target string) (*running, error) {
	var (
		p   *proc
		err error
		// port is the proxy's listening port.
		port int
	)
	switch target {
	case tDirect:
		return &running{name: target, addr: h.backends[0].addr, p: h.backends[0].p, stop: func() {}}, nil
	case tNginxSeed, tNginxNoLock:
		p, port, err = h.startNginx(target, target == tNginxSeed)
	case tCaddy:
		// Go's GC defaults, whatever the chorus binary would choose for itself.
		p, port, err = h.startCaddy(target, h.cfg.caddyCaddyfile, "GOGC=100", "GOMEMLIMIT=off")
	case tChorus:
		p, port, err = h.startCaddy(target, h.cfg.chorusCaddyfile)
	default:
		return nil, fmt.Errorf("unknown target %q", target)
	}
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	if err := waitReady(ctx, p, "http://"+addr+"/api/v4/system/ping"); err != nil {
		h.procs.stop(p)
		return nil, fmt.Errorf("%w\n%s's log ends:\n%s", err, target, h.procs.logTail(target, 15))
	}
	return &running{name: target, addr: addr, p: p, stop: func() { h.procs.stop(p) }}, nil
}

// nginxConf holds the values of bench/configs/nginx.conf.tmpl.
type nginxConf struct {
	Prefix             string
	Port               int
	Backend1, Backend2 string
	Lock               bool
	Nofile             uint64
	WorkerConnections  uint64
}

// startNginx renders the NGINX config into a fresh prefix directory and
// runs nginx in the foreground. As root, it runs as nobody (setpriv), so
// the proxy under test has no privilege; the prefix is given to nobody.
func (h *harness) startNginx(name string, lock bool) (*proc, int, error) {
	port, err := h.ports.next()
	if err != nil {
		return nil, 0, err
	}
	h.nginxRuns++
	prefix := filepath.Join(h.cfg.work, fmt.Sprintf("%s-%d", name, h.nginxRuns))
	for _, d := range []string{"", "cache", "client_body", "proxy", "fastcgi", "uwsgi", "scgi", "logs"} {
		if err := os.MkdirAll(filepath.Join(prefix, d), 0o755); err != nil {
			return nil, 0, err
		}
	}
	tmpl, err := template.ParseFiles(filepath.Join(h.cfg.configs, "nginx.conf.tmpl"))
	if err != nil {
		return nil, 0, fmt.Errorf("reading the NGINX template: %w", err)
	}
	conf := filepath.Join(prefix, "nginx.conf")
	f, err := os.Create(conf)
	if err != nil {
		return nil, 0, err
	}
	err = tmpl.Execute(f, nginxConf{
		Prefix: prefix, Port: port, Backend1: h.backends[0].addr, Backend2: h.backends[1].addr, Lock: lock,
		Nofile: h.nofile, WorkerConnections: h.nofile - 100,
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, 0, fmt.Errorf("writing %s: %w", conf, err)
	}
	argv := []string{h.cfg.nginxBin, "-p", prefix, "-c", conf, "-e", "stderr", "-g", "daemon off;"}
	if os.Geteuid() == 0 {
		if err := chownTree(prefix, nobody, nobody); err != nil {
			return nil, 0, err
		}
		argv = append([]string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"}, argv...)
	}
	p, err := h.procs.start(name, nil, nil, argv...)
	return p, port, err
}

// nobody is the uid and gid NGINX runs as when the harness is root.
const nobody = 65534

// chownTree gives dir and everything under it to uid:gid.
func chownTree(dir string, uid, gid int) error {
	return filepath.Walk(dir, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, uid, gid)
	})
}

// startCaddy runs `chorus run` with caddyfile, on fresh proxy and admin
// ports, with its storage under the work directory.
func (h *harness) startCaddy(name, caddyfile string, env ...string) (*proc, int, error) {
	port, err := h.ports.next()
	if err != nil {
		return nil, 0, err
	}
	admin, err := h.ports.next()
	if err != nil {
		return nil, 0, err
	}
	home := filepath.Join(h.cfg.work, name+"-home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return nil, 0, err
	}
	env = append(env,
		fmt.Sprintf("PROXY_PORT=%d", port), fmt.Sprintf("ADMIN_PORT=%d", admin),
		"BACKEND1="+h.backends[0].addr, "BACKEND2="+h.backends[1].addr,
		"XDG_DATA_HOME="+home, "XDG_CONFIG_HOME="+home, "HOME="+home)
	p, err := h.procs.start(name, env, nil, h.cfg.chorusBin, "run", "--config", caddyfile, "--adapter", "caddyfile")
	return p, port, err
}

// backendStats is the JSON of the backend's /_bench/stats.
type backendStats struct {
	Requests map[string]int64 `json:"requests"`
	WSOpen   int64            `json:"ws_open"`
}

// stats sums /_bench/stats over both backends.
func (h *harness) stats() (backendStats, error) {
	sum := backendStats{Requests: map[string]int64{}}
	client := &http.Client{Timeout: 5 * time.Second}
	for _, b := range h.backends {
		resp, err := client.Get("http://" + b.addr + "/_bench/stats")
		if err != nil {
			return sum, fmt.Errorf("reading backend stats: %w", err)
		}
		var s backendStats
		err = json.NewDecoder(resp.Body).Decode(&s)
		_ = resp.Body.Close()
		if err != nil {
			return sum, fmt.Errorf("decoding backend stats: %w", err)
		}
		for k, v := range s.Requests {
			sum.Requests[k] += v
		}
		sum.WSOpen += s.WSOpen
	}
	return sum, nil
}
