package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// wrkResult is what report.lua prints after a wrk run, plus wrk's own CPU.
type wrkResult struct {
	Requests   int64   `json:"requests"`
	DurationUS int64   `json:"duration_us"`
	Bytes      int64   `json:"bytes"`
	P50US      float64 `json:"p50_us"`
	P90US      float64 `json:"p90_us"`
	P99US      float64 `json:"p99_us"`
	MaxUS      float64 `json:"max_us"`
	ErrConnect int64   `json:"err_connect"`
	ErrRead    int64   `json:"err_read"`
	ErrWrite   int64   `json:"err_write"`
	ErrStatus  int64   `json:"err_status"`
	ErrTimeout int64   `json:"err_timeout"`

	cpu time.Duration // wrk's own user+system time
}

// errors is the number of failed requests of every kind.
func (w wrkResult) errors() int64 {
	return w.ErrConnect + w.ErrRead + w.ErrWrite + w.ErrStatus + w.ErrTimeout
}

// rps is the rate of completed requests.
func (w wrkResult) rps() float64 {
	if w.DurationUS == 0 {
		return 0
	}
	return float64(w.Requests) / (float64(w.DurationUS) / 1e6)
}

// runWrk runs wrk against url for d with the configured connections and
// threads, appending its report to logs/wrk.log.
func (h *harness) runWrk(ctx context.Context, url string, d time.Duration) (wrkResult, error) {
	ctx, cancel := context.WithTimeout(ctx, d+h.cfg.wrkTimeout+30*time.Second)
	defer cancel()
	args := []string{
		"-t", strconv.Itoa(h.cfg.threads), "-c", strconv.Itoa(h.cfg.conns), "-d", wrkDuration(d),
		"--latency", "--timeout", wrkDuration(h.cfg.wrkTimeout), "-s", h.cfg.lua, url,
	}
	cmd := exec.CommandContext(ctx, h.cfg.wrkBin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if f, ferr := os.OpenFile(h.cfg.logs+"/wrk.log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); ferr == nil {
		fmt.Fprintf(f, "==== %s wrk %s\n%s\n", time.Now().Format(time.RFC3339), strings.Join(args, " "), out.String())
		_ = f.Close()
	}
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %w: %s", url, err, lastLines(out.String(), 5))
	}
	r, err := parseWrk(out.String())
	if err != nil {
		return r, fmt.Errorf("wrk %s: %w", url, err)
	}
	if st := cmd.ProcessState; st != nil {
		r.cpu = st.UserTime() + st.SystemTime()
	}
	return r, nil
}

// parseWrk finds report.lua's BENCHJSON line in wrk's output.
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	for _, line := range strings.Split(out, "\n") {
		if js, ok := strings.CutPrefix(strings.TrimSpace(line), "BENCHJSON "); ok {
			if err := json.Unmarshal([]byte(js), &r); err != nil {
				return r, fmt.Errorf("parsing report.lua's line: %w", err)
			}
			return r, nil
		}
	}
	return r, fmt.Errorf("no BENCHJSON line in wrk's output (is -s report.lua given?): %s", lastLines(out, 5))
}

// wrkDuration writes d in wrk's syntax (whole seconds, at least 1).
func wrkDuration(d time.Duration) string {
	return fmt.Sprintf("%ds", max(1, int(d.Round(time.Second)/time.Second)))
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}
