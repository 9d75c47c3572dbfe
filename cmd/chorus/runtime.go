package main

import (
	"os"
	"runtime/debug"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// The garbage collector settings of a chorus process that proxies (the
// front door: "run", "start", "demo"…; not "node", an app node, which keeps
// Go's defaults). A proxy's live heap is small (10–30 MB without the
// response cache) and what it allocates dies with each request, so
// collecting five times less often costs little memory and saves about a
// tenth of its CPU per request (docs/performance.md); the memory limit
// keeps that headroom from growing into the host's memory when the live
// heap does (a full response cache, a crowd of WebSockets): near the
// limit the collector runs as often as it must.
const (
	// proxyGOGC is the GC percent: the heap may grow to 5× the live heap
	// before a collection (Go's default is 100: 2×).
	proxyGOGC = 400
	// proxyMemoryRatio is the soft memory limit (GOMEMLIMIT) as a share of
	// the memory the process may use: its cgroup's limit, else the
	// machine's RAM.
	proxyMemoryRatio = 0.5
)

// tuneRuntime applies the proxy's GC settings unless the environment
// sets them, as Go does: GOGC (any value, "off" included) keeps Go's
// reading of it, and GOMEMLIMIT likewise; AUTOMEMLIMIT (a ratio, or
// "off") is honoured as Caddy honours it. It then tells Caddy's "run" not
// to replace the limit with its own (90% of the memory).
func tuneRuntime(args []string, lookup func(string) (string, bool)) {
	if len(args) > 0 && args[0] == "node" {
		return
	}
	if _, set := lookup("GOGC"); !set {
		debug.SetGCPercent(proxyGOGC)
	}
	if _, set := lookup("GOMEMLIMIT"); set {
		return
	}
	_, _ = memlimit.Set(
		memlimit.WithRatio(proxyMemoryRatio),
		memlimit.WithProvider(memlimit.ApplyFallback(memlimit.FromCgroup, memlimit.FromSystem)),
	)
	if _, set := lookup("AUTOMEMLIMIT"); !set {
		_ = os.Setenv("AUTOMEMLIMIT", "off")
	}
}
