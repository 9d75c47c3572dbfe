package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// config is benchrun's flags.
type config struct {
	chorusBin, backendBin, wsloadBin, nginxBin, wrkBin string
	configs, lua, work, logs, out, pgidFile            string
	chorusCaddyfile, caddyCaddyfile                    string

	conns, threads, rounds       int
	duration, warmup, wrkTimeout time.Duration

	wsConns, wsRounds, wsSample, wsDial int
	wsTimeout                           time.Duration

	maxOther float64 // retry a window whose other% exceeds this; 0: never

	targets          []string
	skipHTTP, skipWS bool
	timeout          time.Duration
}

// harness is one run: its children, ports and results.
type harness struct {
	cfg         config
	procs       *procs
	ports       freePorts
	backends    [2]*backend
	nofile      uint64 // open-file limit the children inherit
	wsConns     int    // WebSockets per target, after the fd-limit clamp
	chorusCache bool   // bin/chorus has the chorus_cache module
	nginxRuns   int    // numbers NGINX prefix directories
	rep         *report
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("benchrun: ")
	var c config
	var targets string
	flag.StringVar(&c.chorusBin, "chorus", "bin/chorus", "the chorus binary (also runs stock Caddy)")
	flag.StringVar(&c.backendBin, "backend", "", "the bench backend binary (bench/cmd/backend)")
	flag.StringVar(&c.wsloadBin, "wsload", "", "the WebSocket load tool binary (bench/cmd/wsload)")
	flag.StringVar(&c.nginxBin, "nginx", "nginx", "nginx binary")
	flag.StringVar(&c.wrkBin, "wrk", "wrk", "wrk binary")
	flag.StringVar(&c.configs, "configs", "bench/configs", "directory of the proxies' configs")
	flag.StringVar(&c.lua, "lua", "bench/wrk/report.lua", "wrk script printing the machine-readable line")
	flag.StringVar(&c.work, "work", "", "scratch directory (NGINX prefixes, Caddy storage); required")
	flag.StringVar(&c.logs, "logs", "bench/results/logs", "directory for every child's log (emptied first)")
	flag.StringVar(&c.out, "out", "bench/results/latest.txt", "the table is also written here")
	flag.StringVar(&c.pgidFile, "pgid-file", "", "file kept listing the live children's process groups")
	flag.StringVar(&c.chorusCaddyfile, "chorus-caddyfile", "", "Caddyfile of the chorus row (default: CONFIGS/chorus.Caddyfile)")
	flag.StringVar(&c.caddyCaddyfile, "caddy-caddyfile", "", "Caddyfile of the stock Caddy row (default: CONFIGS/caddy-stock.Caddyfile)")
	flag.IntVar(&c.conns, "conns", 64, "wrk connections")
	flag.IntVar(&c.threads, "threads", 2, "wrk threads")
	flag.IntVar(&c.rounds, "rounds", 3, "HTTP rounds over all targets (targets interleaved); the table shows medians")
	flag.DurationVar(&c.duration, "duration", 5*time.Second, "measured wrk window per row (whole seconds)")
	flag.DurationVar(&c.warmup, "warmup", time.Second, "unmeasured wrk run before each window (fills pools and caches)")
	flag.Float64Var(&c.maxOther, "max-other", 0, "measure a proxy's window again (twice at most) when others used more than this % of the CPU in it; 0: never")
	flag.DurationVar(&c.wrkTimeout, "wrk-timeout", 10*time.Second, "wrk's per-request timeout (above NGINX's 5 s cache lock)")
	flag.IntVar(&c.wsConns, "ws-conns", 10000, "WebSockets held open through each proxy (clamped to the fd limit)")
	flag.IntVar(&c.wsRounds, "ws-rounds", 3, "echo rounds with every WebSocket open")
	flag.IntVar(&c.wsSample, "ws-sample", 5000, "sockets that echo one message per round")
	flag.IntVar(&c.wsDial, "ws-dial", 128, "WebSocket handshakes in flight")
	flag.DurationVar(&c.wsTimeout, "ws-timeout", 3*time.Minute, "bound on one wsload run")
	flag.StringVar(&targets, "targets", strings.Join(allTargets, ","), "targets to run, comma-separated")
	flag.BoolVar(&c.skipHTTP, "skip-http", false, "skip the wrk rows")
	flag.BoolVar(&c.skipWS, "skip-ws", false, "skip the WebSocket rows")
	flag.DurationVar(&c.timeout, "timeout", 20*time.Minute, "bound on the whole run")
	flag.Parse()

	for _, t := range strings.Split(targets, ",") {
		if t = strings.TrimSpace(t); !slices.Contains(allTargets, t) {
			log.Fatalf("-targets: unknown target %q (known: %s)", t, strings.Join(allTargets, ", "))
		}
		c.targets = append(c.targets, strings.TrimSpace(t))
	}
	if c.work == "" || c.backendBin == "" || c.wsloadBin == "" {
		log.Fatal("-work, -backend and -wsload are required (bench/run sets them)")
	}
	if c.chorusCaddyfile == "" {
		c.chorusCaddyfile = filepath.Join(c.configs, "chorus.Caddyfile")
	}
	if c.caddyCaddyfile == "" {
		c.caddyCaddyfile = filepath.Join(c.configs, "caddy-stock.Caddyfile")
	}
	if c.conns < 1 || c.threads < 1 || c.rounds < 1 || c.duration < time.Second || c.wsConns < 1 {
		log.Fatal("-conns, -threads, -rounds, -ws-conns must be ≥ 1 and -duration ≥ 1s")
	}

	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, c); err != nil {
		log.Fatal(err)
	}
}

// run sets the harness up, measures, and prints the table.
func run(ctx context.Context, c config) error {
	if err := os.RemoveAll(c.logs); err != nil {
		return err
	}
	if err := os.MkdirAll(c.logs, 0o755); err != nil {
		return err
	}
	h := &harness{cfg: c, procs: newProcs(c.logs, c.pgidFile)}
	defer h.procs.stopAll()
	for _, bin := range []string{c.chorusBin, c.backendBin, c.wsloadBin, c.nginxBin, c.wrkBin} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("missing tool: %w", err)
		}
	}
	h.rep = newReport(h)
	if err := h.setLimits(); err != nil {
		return err
	}
	h.detectChorusCache()

	started := time.Now()
	for i := range h.backends {
		b, err := h.startBackend(fmt.Sprintf("backend%d", i+1))
		if err != nil {
			return err
		}
		h.backends[i] = b
	}
	if !c.skipHTTP {
		h.runHTTP(ctx)
	}
	if !c.skipWS && ctx.Err() == nil {
		h.runWS(ctx)
	}
	if err := ctx.Err(); err != nil {
		h.rep.notef("the run was cut short: %v; rows after that point are missing", err)
	}
	h.rep.elapsed = time.Since(started)

	table := h.rep.String()
	fmt.Print(table)
	if c.out != "" {
		if err := os.MkdirAll(filepath.Dir(c.out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(c.out, []byte(table), 0o644); err != nil {
			return fmt.Errorf("saving the table: %w", err)
		}
		fmt.Printf("(saved to %s; logs in %s)\n", c.out, c.logs)
	}
	return nil
}

// runHTTP measures every endpoint through every target, round after round
// (targets interleaved, so slow drift in the machine's load hits them alike).
func (h *harness) runHTTP(ctx context.Context) {
	for round := 1; round <= h.cfg.rounds && ctx.Err() == nil; round++ {
		for _, t := range h.cfg.targets {
			if ctx.Err() != nil {
				return
			}
			log.Printf("HTTP round %d/%d: %s", round, h.cfg.rounds, t)
			r, err := h.start(ctx, t)
			if err != nil {
				h.rep.failf(t, "did not start: %v", err)
				continue
			}
			for _, ep := range endpoints {
				if ep.cached && !h.caches(t) {
					continue
				}
				res, err := h.measureHTTP(ctx, r, ep)
				// Direct rows are left alone: at their packet rate the
				// uncharged softirq time alone reaches 25-30%.
				for tries := 1; err == nil && t != tDirect && h.cfg.maxOther > 0 && res.otherPct > h.cfg.maxOther && tries < 3; tries++ {
					log.Printf("  %s %s: others used %.0f%% of the CPU, measuring again", t, ep.key, res.otherPct)
					res, err = h.measureHTTP(ctx, r, ep)
					res.tries = tries + 1
				}
				if err != nil {
					h.rep.failf(t, "%s: %v", ep.key, err)
					continue
				}
				h.rep.http = append(h.rep.http, res)
			}
			r.stop()
		}
	}
}

// caches reports whether target t gets the cache-hit rows.
func (h *harness) caches(t string) bool {
	switch t {
	case tDirect, tNginxSeed:
		return true // direct is the reference; the seed is NGINX's proxy_cache
	case tChorus:
		return h.chorusCache
	}
	return false // nginx-nolock caches like the seed; stock Caddy has no cache
}

// runWS holds h.wsConns WebSockets through each target, one fresh proxy
// process per target.
func (h *harness) runWS(ctx context.Context) {
	for _, t := range h.cfg.targets {
		if ctx.Err() != nil {
			return
		}
		if t == tNginxNoLock {
			continue // the same WebSocket location as the seed: nothing new to learn
		}
		log.Printf("WebSockets: %d through %s", h.wsConns, t)
		r, err := h.start(ctx, t)
		if err != nil {
			h.rep.failf(t, "did not start for the WebSocket test: %v", err)
			continue
		}
		res, err := h.measureWS(ctx, r)
		r.stop()
		if err != nil {
			h.rep.failf(t, "WebSockets: %v", err)
			continue
		}
		h.rep.ws = append(h.rep.ws, res)
	}
}

// setLimits reads the open-file limit the children inherit and clamps the
// WebSocket count to it: a Go proxy holds 2 fds per proxied socket in one
// process, and without CAP_SYS_RESOURCE the hard limit cannot be raised.
func (h *harness) setLimits() error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return fmt.Errorf("reading the open-file limit: %w", err)
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			return fmt.Errorf("raising the open-file limit: %w", err)
		}
	}
	h.nofile = l.Cur
	h.wsConns = h.cfg.wsConns
	// 400 fds of room for listeners, logs, pooled HTTP connections.
	if most := (int(l.Cur) - 400) / 2 / 100 * 100; h.wsConns > most {
		h.wsConns = max(most, 100)
		h.rep.notef("WebSockets: %d asked, %d measured: the open-file limit is %d and a proxy holds 2 fds per socket "+
			"(raising the hard limit needs CAP_SYS_RESOURCE: `ulimit -Hn 65536` as real root, or prlimit)", h.cfg.wsConns, h.wsConns, l.Cur)
	}
	return nil
}

// detectChorusCache asks bin/chorus for its modules.
func (h *harness) detectChorusCache() {
	out, err := exec.Command(h.cfg.chorusBin, "list-modules").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		h.rep.notef("`%s list-modules` failed (%v): chorus cache rows skipped", h.cfg.chorusBin, err)
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		if m := strings.TrimSpace(line); strings.Contains(m, "chorus") {
			h.rep.chorusModules = append(h.rep.chorusModules, m)
		}
		if strings.Contains(line, "chorus_cache") {
			h.chorusCache = true
		}
	}
	if !h.chorusCache {
		h.rep.notef("bin/chorus has no chorus_cache module yet: the Chorus cache-hit rows are skipped")
	}
}
