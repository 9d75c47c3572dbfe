package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"time"

	"github.com/seed331fb32b/chorus/bench/internal/procstat"
)

// httpResult is one measured wrk window of one endpoint through one target.
type httpResult struct {
	target   string
	endpoint string
	rps      float64
	p50ms    float64
	p99ms    float64
	cpuUS    float64 // proxy CPU per request in µs; for direct, the backend's
	errors   int64
	requests int64
	// backendShare is, for cache rows, the fraction of wrk's requests that
	// reached a backend in the window (0 for a cache that hits every time).
	backendShare float64
	// otherPct is the CPU that processes outside the benchmark used in the
	// window, in percent of all cores: the noise of this row.
	otherPct float64
	// cacheStatus is the Cache-Status header (RFC 9211) of one request
	// after the window, on cache rows; NGINX sends none.
	cacheStatus string
	// tries is how many windows were measured to get one under -max-other.
	tries int
}

// measureHTTP warms ep up through r, then measures one window.
func (h *harness) measureHTTP(ctx context.Context, r *running, ep endpoint) (httpResult, error) {
	res := httpResult{target: r.name, endpoint: ep.key}
	url := "http://" + r.addr + ep.path
	// The warm-up fills connection pools and, with min_uses 2, the caches.
	if h.cfg.warmup > 0 {
		if _, err := h.runWrk(ctx, url, h.cfg.warmup); err != nil {
			return res, err
		}
	}
	before, err := h.sample(r)
	if err != nil {
		return res, err
	}
	start := time.Now()
	w, err := h.runWrk(ctx, url, h.cfg.duration)
	if err != nil {
		return res, err
	}
	window := time.Since(start)
	after, err := h.sample(r)
	if err != nil {
		return res, err
	}

	res.rps, res.requests, res.errors = w.rps(), w.Requests, w.errors()
	res.p50ms, res.p99ms = w.P50US/1000, w.P99US/1000
	if w.Requests > 0 {
		res.cpuUS = float64(after.proxy-before.proxy) / float64(time.Microsecond) / float64(w.Requests)
		res.backendShare = float64(after.stats.Requests[ep.key]-before.stats.Requests[ep.key]) / float64(w.Requests)
	}
	ours := after.backends - before.backends + w.cpu
	if r.name != tDirect { // for direct the "proxy" is a backend, already counted
		ours += after.proxy - before.proxy
	}
	other := after.busy - before.busy - ours
	res.otherPct = max(0, 100*float64(other)/float64(window)/float64(runtime.NumCPU()))
	if ep.cached {
		res.cacheStatus = cacheStatus(url)
	}
	return res, nil
}

// cacheStatus returns the Cache-Status header of one GET of url, "" if
// none or on error.
func cacheStatus(url string) string {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return ""
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.Header.Get("Cache-Status")
}

// snapshot is what measureHTTP reads before and after a window.
type snapshot struct {
	proxy, backends, busy time.Duration
	stats                 backendStats
}

// sample reads r's CPU, the backends' CPU and counters, and the machine's
// busy time.
func (h *harness) sample(r *running) (snapshot, error) {
	var s snapshot
	var err error
	if s.proxy, err = procstat.CPU(r.p.pid()); err != nil {
		return s, fmt.Errorf("%s: %w", r.name, err)
	}
	for _, b := range h.backends {
		c, err := procstat.CPU(b.p.pid())
		if err != nil {
			return s, err
		}
		s.backends += c
	}
	if s.busy, err = procstat.MachineBusy(); err != nil {
		return s, err
	}
	s.stats, err = h.stats()
	return s, err
}

// wsResult is wsload's JSON for one target, plus the harness' check that
// the backends saw every socket close.
type wsResult struct {
	target         string
	Requested      int     `json:"requested"`
	Open           int     `json:"open"`
	DialErrors     int     `json:"dial_errors"`
	FirstDialError string  `json:"first_dial_error"`
	DialSeconds    float64 `json:"dial_seconds"`
	Echoes         int     `json:"echoes"`
	EchoLost       int     `json:"echo_lost"`
	P50Ms          float64 `json:"p50_ms"`
	P99Ms          float64 `json:"p99_ms"`
	MaxMs          float64 `json:"max_ms"`
	RSSBeforeKiB   int64   `json:"rss_before_kib"`
	RSSOpenKiB     int64   `json:"rss_open_kib"`
	KiBPerSocket   float64 `json:"kib_per_socket"`
	// leftOpen counts backend WebSockets still open 15 s after every client
	// closed: tunnels the proxy failed to tear down.
	leftOpen int64
}

// measureWS opens h.wsConns WebSockets through r with wsload.
func (h *harness) measureWS(ctx context.Context, r *running) (wsResult, error) {
	res := wsResult{target: r.name}
	pid := 0
	if r.name != tDirect {
		pid = r.p.pid()
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.wsTimeout+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.cfg.wsloadBin,
		"-url", "ws://"+r.addr+wsPath, "-conns", strconv.Itoa(h.wsConns), "-pid", strconv.Itoa(pid),
		"-rounds", strconv.Itoa(h.cfg.wsRounds), "-sample", strconv.Itoa(h.cfg.wsSample),
		"-dial-concurrency", strconv.Itoa(h.cfg.wsDial), "-timeout", h.cfg.wsTimeout.String())
	var out bytes.Buffer
	cmd.Stdout = &out
	log, err := os.OpenFile(h.cfg.logs+"/wsload.log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return res, err
	}
	defer func() { _ = log.Close() }()
	fmt.Fprintf(log, "==== %s %s: %v\n", time.Now().Format(time.RFC3339), r.name, cmd.Args)
	cmd.Stderr = log
	if err := cmd.Run(); err != nil {
		return res, fmt.Errorf("wsload through %s: %w (see %s/wsload.log)", r.name, err, h.cfg.logs)
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return res, fmt.Errorf("parsing wsload's result %q: %w", out.String(), err)
	}
	// The clients are gone: the proxy must close its side to the backends.
	deadline := time.Now().Add(15 * time.Second)
	for {
		s, err := h.stats()
		if err != nil {
			return res, err
		}
		res.leftOpen = s.WSOpen
		if s.WSOpen == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return res, nil
}
