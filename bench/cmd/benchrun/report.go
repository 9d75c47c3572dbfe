package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report gathers the run's facts and results and prints the table.
type report struct {
	cfg           config
	started       time.Time
	loadStart     string
	elapsed       time.Duration
	facts         []string // machine and tool versions, one "name: value" each
	chorusModules []string
	wsConns       func() int
	http          []httpResult
	ws            []wsResult
	notes         []string
	failures      []string
}

func newReport(h *harness) *report {
	r := &report{cfg: h.cfg, started: time.Now(), loadStart: loadAvg(), wsConns: func() int { return h.wsConns }}
	r.facts = []string{
		fmt.Sprintf("machine: %d cores (%s), %s, Linux %s", runtime.NumCPU(), cpuModel(), memTotal(), readTrim("/proc/sys/kernel/osrelease")),
		fmt.Sprintf("tools: %s, %s, %s", nginxVersion(h.cfg.nginxBin), wrkVersion(h.cfg.wrkBin), runtime.Version()),
		"bin/chorus: built from " + gitDescribe(),
	}
	return r
}

// notef adds a note printed under the tables.
func (r *report) notef(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// failf records that a row could not be measured.
func (r *report) failf(target, format string, args ...any) {
	r.failures = append(r.failures, target+": "+fmt.Sprintf(format, args...))
}

// agg is the median of a target's rounds for one endpoint.
type agg struct {
	httpResult
	rounds int
}

// aggregate returns the medians per target and endpoint.
func (r *report) aggregate() map[[2]string]agg {
	group := map[[2]string][]httpResult{}
	for _, x := range r.http {
		k := [2]string{x.target, x.endpoint}
		group[k] = append(group[k], x)
	}
	out := map[[2]string]agg{}
	for k, xs := range group {
		pick := func(f func(httpResult) float64) float64 {
			v := make([]float64, len(xs))
			for i, x := range xs {
				v[i] = f(x)
			}
			return median(v)
		}
		a := agg{rounds: len(xs)}
		a.target, a.endpoint = k[0], k[1]
		a.rps = pick(func(x httpResult) float64 { return x.rps })
		a.p50ms = pick(func(x httpResult) float64 { return x.p50ms })
		a.p99ms = pick(func(x httpResult) float64 { return x.p99ms })
		a.cpuUS = pick(func(x httpResult) float64 { return x.cpuUS })
		a.otherPct = pick(func(x httpResult) float64 { return x.otherPct })
		a.cacheStatus = xs[len(xs)-1].cacheStatus
		for _, x := range xs {
			a.tries = max(a.tries, x.tries)
			a.errors += x.errors
			a.requests += x.requests
			a.backendShare = max(a.backendShare, x.backendShare)
		}
		out[k] = a
	}
	return out
}

// String renders the whole report.
func (r *report) String() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("Chorus front-door benchmark (make bench), %s\n", r.started.UTC().Format("2006-01-02 15:04 MST"))
	for _, f := range r.facts {
		p("  %s\n", f)
	}
	if len(r.chorusModules) > 0 {
		p("  chorus modules: %s\n", strings.Join(r.chorusModules, ", "))
	}
	p("  load average (1/5/15 min): %s at start, %s at end; run took %s\n", r.loadStart, loadAvg(), r.elapsed.Round(time.Second))
	p("  NOTE: wrk, the proxy and both backends share these %d cores, and so does anyone else using the machine:\n", runtime.NumCPU())
	p("  figures are noisy (3-8%% between runs even when quiet); CPU µs/req moves least. \"other%%\" is the CPU that\n")
	p("  processes outside the benchmark used during the row's window, in %% of all cores: 7-15%% shows even when idle\n")
	p("  (softirq time of loopback traffic nobody is charged for), up to ~30%% at direct's rates; more means a busy machine.\n\n")

	if len(r.http) > 0 {
		r.writeHTTP(&b)
	}
	if len(r.ws) > 0 {
		r.writeWS(&b)
	}
	r.writeTargets(&b)

	p("Rows:\n")
	for _, t := range allTargets {
		p("  %-13s %s\n", t, targetAbout[t])
	}
	p("  CPU µs/req: utime+stime of the proxy (NGINX: master and workers) over the window / requests completed.\n")
	if len(r.failures) > 0 {
		p("\nNot measured:\n")
		for _, f := range r.failures {
			p("  - %s\n", strings.ReplaceAll(f, "\n", "\n    "))
		}
	}
	if len(r.notes) > 0 {
		p("\nNotes:\n")
		for _, n := range r.notes {
			p("  - %s\n", n)
		}
	}
	return b.String()
}

// writeHTTP renders the wrk rows.
func (r *report) writeHTTP(b *strings.Builder) {
	a := r.aggregate()
	fmt.Fprintf(b, "HTTP: wrk -t%d -c%d -d%s --latency after a %s warm-up; medians of %d round(s)\n",
		r.cfg.threads, r.cfg.conns, wrkDuration(r.cfg.duration), r.cfg.warmup, r.cfg.rounds)
	var t table
	t.add("target", "req/s", "×direct", "×nginx", "×nolock", "×caddy", "p50 ms", "p99 ms", "CPU µs/req", "errors", "other%", "notes")
	for _, ep := range endpoints {
		var rows []agg
		for _, tg := range allTargets {
			if x, ok := a[[2]string{tg, ep.key}]; ok {
				rows = append(rows, x)
			}
		}
		if len(rows) == 0 {
			continue
		}
		t.title(ep.label)
		ratio := func(x agg, ref string) string {
			base, ok := a[[2]string{ref, ep.key}]
			if !ok || base.rps == 0 {
				return "–"
			}
			return fmt.Sprintf("%.2f×", x.rps/base.rps)
		}
		for _, x := range rows {
			var notes []string
			if x.target == tDirect {
				notes = append(notes, "CPU: the backend's")
			} else if ep.cached {
				if x.backendShare > 0.01 {
					notes = append(notes, fmt.Sprintf("NOT cache hits: backends served %.0f%%", 100*x.backendShare))
				} else {
					notes = append(notes, fmt.Sprintf("hits: backends served %.2f%%", 100*x.backendShare))
				}
			}
			if x.cacheStatus != "" {
				notes = append(notes, "Cache-Status: "+x.cacheStatus)
			}
			if x.tries > 1 {
				notes = append(notes, fmt.Sprintf("%d windows measured for one under -max-other", x.tries))
			}
			if x.errors > 0 {
				notes = append(notes, fmt.Sprintf("%.1f%% of requests failed", 100*float64(x.errors)/float64(max(1, x.requests+x.errors))))
			}
			t.add(x.target, thousands(x.rps), ratio(x, tDirect), ratio(x, tNginxSeed), ratio(x, tNginxNoLock), ratio(x, tCaddy),
				fmt.Sprintf("%.2f", x.p50ms), fmt.Sprintf("%.2f", x.p99ms), fmt.Sprintf("%.1f", x.cpuUS),
				fmt.Sprint(x.errors), fmt.Sprintf("%.0f", x.otherPct), strings.Join(notes, "; "))
		}
	}
	t.write(b)
	fmt.Fprintf(b, "  ×X: req/s over target X's for the same request (nginx = nginx-seed, nolock = nginx-nolock).\n\n")
}

// writeWS renders the WebSocket rows.
func (r *report) writeWS(b *strings.Builder) {
	fmt.Fprintf(b, "WebSockets: %s held open through each proxy to the backends' echo (a fresh proxy process each);\n", thousands(float64(r.wsConns())))
	fmt.Fprintf(b, "  %d echo rounds of up to %s 128-byte messages, each round spread over 1 s; memory: VmRSS of the proxy and its children\n",
		r.cfg.wsRounds, thousands(float64(min(r.cfg.wsSample, r.wsConns()))))
	var nginx float64
	for _, w := range r.ws {
		if w.target == tNginxSeed {
			nginx = w.KiBPerSocket
		}
	}
	var t table
	t.add("target", "open", "failed", "KiB/socket", "×nginx", "RSS MiB before → open", "echo p50 ms", "echo p99 ms", "lost", "left open", "")
	for _, w := range r.ws {
		kib, ratio, rss := "–", "–", "–"
		if w.target != tDirect {
			kib = fmt.Sprintf("%.1f", w.KiBPerSocket)
			rss = fmt.Sprintf("%.1f → %.1f", float64(w.RSSBeforeKiB)/1024, float64(w.RSSOpenKiB)/1024)
			if nginx > 0 {
				ratio = fmt.Sprintf("%.2f×", w.KiBPerSocket/nginx)
			}
		}
		note := ""
		if w.FirstDialError != "" {
			note = "first failure: " + w.FirstDialError
		}
		t.add(w.target, fmt.Sprint(w.Open), fmt.Sprint(w.DialErrors), kib, ratio, rss,
			fmt.Sprintf("%.2f", w.P50Ms), fmt.Sprintf("%.2f", w.P99Ms), fmt.Sprint(w.EchoLost), fmt.Sprint(w.leftOpen), note)
	}
	t.write(b)
	fmt.Fprintf(b, "  left open: backend sockets still open 15 s after every client closed (tunnels the proxy kept).\n")
	fmt.Fprintf(b, "  nginx-nolock is not repeated: its WebSocket location is the seed's.\n\n")
}

// writeTargets compares the Chorus rows with the issues' targets.
func (r *report) writeTargets(b *strings.Builder) {
	a := r.aggregate()
	get := func(t, ep string) (agg, bool) { x, ok := a[[2]string{t, ep}]; return x, ok }
	var lines []string
	check := func(issue, what string, ok, known bool, detail string) {
		status := "n/a    "
		if known {
			status = "NOT met"
			if ok {
				status = "met    "
			}
		}
		lines = append(lines, fmt.Sprintf("  [%s] issue %s: %s (%s)", status, issue, what, detail))
	}
	both := func(f func(ep string) (bool, bool, string)) (bool, bool, string) {
		allOK, allKnown, details := true, true, []string{}
		for _, ep := range []string{"ping", "api"} {
			ok, known, d := f(ep)
			allOK, allKnown = allOK && ok, allKnown && known
			details = append(details, ep+" "+d)
		}
		return allOK, allKnown, strings.Join(details, ", ")
	}
	vsCaddy := func(min float64) func(string) (bool, bool, string) {
		return func(ep string) (bool, bool, string) {
			c, ok1 := get(tChorus, ep)
			s, ok2 := get(tCaddy, ep)
			if !ok1 || !ok2 || s.rps == 0 {
				return false, false, "–"
			}
			detail := fmt.Sprintf("%.2f×", c.rps/s.rps)
			if c.cpuUS > 0 {
				// CPU per request is the figure least moved by a busy machine.
				detail += fmt.Sprintf(" [CPU/req %.2f×]", s.cpuUS/c.cpuUS)
			}
			return c.rps >= min*s.rps, true, detail
		}
	}
	ok, known, d := both(vsCaddy(1.0))
	check("6", "chorus req/s ≥ 1.0× stock Caddy", ok, known, d)
	ok, known, d = both(vsCaddy(1.7))
	check("8", "chorus req/s ≥ 1.7× stock Caddy", ok, known, d)
	ok, known, d = both(func(ep string) (bool, bool, string) {
		c, ok := get(tChorus, ep)
		if !ok {
			return false, false, "–"
		}
		return c.cpuUS <= 50, true, fmt.Sprintf("%.0f µs", c.cpuUS)
	})
	check("8", "chorus CPU ≤ 50 µs per proxied request", ok, known, d)
	ok, known, d = both(func(ep string) (bool, bool, string) {
		c, ok1 := get(tChorus, ep)
		s, ok2 := get(tCaddy, ep)
		if !ok1 || !ok2 {
			return false, false, "–"
		}
		return c.p99ms <= s.p99ms, true, fmt.Sprintf("%.2f vs %.2f ms", c.p99ms, s.p99ms)
	})
	check("8", "chorus p99 ≤ stock Caddy's", ok, known, d)
	if c, ok := get(tChorus, "api"); ok {
		seed := "–"
		if s, ok := get(tNginxSeed, "api"); ok {
			seed = fmt.Sprintf("%.0f ms", s.p99ms)
		}
		// NGINX's lock re-checks every 500 ms: a p99 that high is requests
		// waiting on each other.
		check("6/7", "uncacheable API calls never wait on each other (p99 < 250 ms)", c.p99ms < 250, true,
			fmt.Sprintf("chorus api p99 %.2f ms; nginx-seed %s", c.p99ms, seed))
	} else {
		check("6/7", "uncacheable API calls never wait on each other (p99 < 250 ms)", false, false, "no chorus api row")
	}
	for _, ep := range []string{"static_2k", "static_200k"} {
		c, ok1 := get(tChorus, ep)
		n, ok2 := get(tNginxSeed, ep)
		if !ok1 || !ok2 || n.rps == 0 {
			check("7", "chorus_cache hits ≥ 1.2× NGINX proxy_cache hits, "+ep, false, false, "no chorus_cache row")
			continue
		}
		check("7", "chorus_cache hits ≥ 1.2× NGINX proxy_cache hits, "+ep, c.rps >= 1.2*n.rps && c.backendShare <= 0.01, true,
			fmt.Sprintf("%.2f×", c.rps/n.rps))
	}
	kib, known := 0.0, false
	for _, w := range r.ws {
		if w.target == tChorus && w.Open > 0 {
			kib, known = w.KiBPerSocket, true
		}
	}
	detail := "no chorus WebSocket row"
	if known {
		detail = fmt.Sprintf("%.1f KiB", kib)
	}
	check("6", "chorus ≤ 16 KiB per open WebSocket", kib <= 16, known, detail)

	fmt.Fprintf(b, "Targets of issues 6-8 (this run; noisy machine, see above):\n%s\n\n", strings.Join(lines, "\n"))
}

// median returns the median of v (the mean of the middle two for an even
// count); 0 for none.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// thousands formats v rounded to an integer with thousands separators.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// loadAvg is the first three fields of /proc/loadavg.
func loadAvg() string {
	f := strings.Fields(readTrim("/proc/loadavg"))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	for _, l := range strings.Split(readTrim("/proc/cpuinfo"), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// memTotal is MemTotal of /proc/meminfo in GiB.
func memTotal() string {
	for _, l := range strings.Split(readTrim("/proc/meminfo"), "\n") {
		var kib int64
		if _, err := fmt.Sscanf(l, "MemTotal: %d kB", &kib); err == nil {
			return fmt.Sprintf("%.0f GiB", float64(kib)/(1<<20))
		}
	}
	return "? GiB"
}

// gitDescribe names the tree bin/chorus was built from.
func gitDescribe() string {
	rev := strings.TrimSpace(cmdOut("git", "rev-parse", "--short", "HEAD"))
	if rev == "" {
		return "an unknown revision (no git)"
	}
	if strings.TrimSpace(cmdOut("git", "status", "--porcelain", "--untracked-files=no")) != "" {
		return "git " + rev + " plus uncommitted changes"
	}
	return "git " + rev
}

// cmdOut runs a command and returns its combined output, "" on failure to
// start.
func cmdOut(name string, args ...string) string {
	out, _ := exec.Command(name, args...).CombinedOutput()
	return string(out)
}

// nginxVersion is "nginx/1.22.1" from `nginx -v`.
func nginxVersion(bin string) string {
	return strings.TrimPrefix(firstLine(cmdOut(bin, "-v")), "nginx version: ")
}

// wrkVersion is "wrk 4.1.0" from the first words of `wrk -v`.
func wrkVersion(bin string) string {
	f := strings.Fields(firstLine(cmdOut(bin, "-v")))
	if len(f) < 2 {
		return "wrk (unknown version)"
	}
	return f[0] + " " + f[1]
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

func readTrim(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}
