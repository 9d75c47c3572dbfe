package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/seed331fb32b/chorus/bench/internal/procstat"
)

// options are wsload's flags.
type options struct {
	url        *url.URL
	conns      int
	dialConc   int
	rounds     int
	sample     int
	spread     time.Duration
	msgSize    int
	pid        int
	sources    []net.IP
	timeout    time.Duration
	settle     time.Duration
	opTimeout  time.Duration
	maxErrRate float64
}

// result is what wsload prints on standard output, one JSON object.
type result struct {
	Requested      int     `json:"requested"`
	Open           int     `json:"open"`
	DialErrors     int     `json:"dial_errors"`
	FirstDialError string  `json:"first_dial_error,omitempty"`
	DialSeconds    float64 `json:"dial_seconds"`
	Echoes         int     `json:"echoes"`
	EchoLost       int     `json:"echo_lost"`
	P50Ms          float64 `json:"p50_ms"`
	P99Ms          float64 `json:"p99_ms"`
	MaxMs          float64 `json:"max_ms"`
	RSSBeforeKiB   int64   `json:"rss_before_kib,omitempty"`
	RSSOpenKiB     int64   `json:"rss_open_kib,omitempty"`
	KiBPerSocket   float64 `json:"kib_per_socket,omitempty"`
}

func main() {
	var o options
	rawURL := flag.String("url", "", "WebSocket URL, ws://host:port/path (required)")
	flag.IntVar(&o.conns, "conns", 10000, "WebSockets to open")
	flag.IntVar(&o.dialConc, "dial-concurrency", 128, "handshakes in flight at once")
	flag.IntVar(&o.rounds, "rounds", 3, "echo rounds with every socket open")
	flag.IntVar(&o.sample, "sample", 5000, "sockets that send one message per round (at most -conns)")
	flag.DurationVar(&o.spread, "spread", time.Second, "a round's messages are spread evenly over this")
	flag.IntVar(&o.msgSize, "msg", 128, "message size in bytes")
	flag.IntVar(&o.pid, "pid", 0, "proxy process whose VmRSS (with its children) is measured; 0: none")
	src := flag.String("src", "127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4", "comma-separated local source addresses, used in turn")
	flag.DurationVar(&o.timeout, "timeout", 3*time.Minute, "bound on the whole run")
	flag.DurationVar(&o.settle, "settle", 500*time.Millisecond, "pause before reading memory with every socket open")
	flag.DurationVar(&o.opTimeout, "op-timeout", 10*time.Second, "bound on one handshake or one echo")
	flag.Float64Var(&o.maxErrRate, "max-errors", 0.05, "stop dialing once this fraction of -conns has failed")
	flag.Parse()

	u, err := url.Parse(*rawURL)
	if err != nil || u.Scheme != "ws" || u.Host == "" {
		log.Fatalf("wsload: -url must be ws://host:port/path, got %q", *rawURL)
	}
	o.url = u
	for _, s := range strings.Split(*src, ",") {
		ip := net.ParseIP(strings.TrimSpace(s))
		if ip == nil {
			log.Fatalf("wsload: -src: %q is not an IP address", s)
		}
		o.sources = append(o.sources, ip)
	}
	if o.conns < 1 || o.dialConc < 1 || o.rounds < 0 || o.msgSize < 8 || o.sample < 0 {
		log.Fatal("wsload: -conns and -dial-concurrency must be ≥ 1, -msg ≥ 8, -rounds and -sample ≥ 0")
	}
	o.sample = min(o.sample, o.conns)
	raiseFileLimit()

	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	res, err := run(ctx, o)
	if err != nil {
		log.Fatalf("wsload: %v", err)
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		log.Fatalf("wsload: %v", err)
	}
}

// run opens the sockets, measures, and closes them.
func run(ctx context.Context, o options) (result, error) {
	res := result{Requested: o.conns}
	if o.pid > 0 {
		kib, err := procstat.RSSKiB(o.pid)
		if err != nil {
			return res, err
		}
		res.RSSBeforeKiB = kib
	}

	start := time.Now()
	conns, errs, firstErr := dialAll(ctx, o)
	defer closeAll(conns)
	res.DialSeconds = time.Since(start).Seconds()
	res.Open, res.DialErrors = len(conns), errs
	if firstErr != nil {
		res.FirstDialError = firstErr.Error()
	}
	log.Printf("wsload: %d open, %d dial errors in %.1fs", res.Open, errs, res.DialSeconds)
	if len(conns) == 0 {
		return res, nil
	}

	rtts, lost := echoRounds(ctx, o, conns)
	res.Echoes, res.EchoLost = len(rtts), lost
	res.P50Ms, res.P99Ms, res.MaxMs = percentileMs(rtts, 0.50), percentileMs(rtts, 0.99), percentileMs(rtts, 1)
	log.Printf("wsload: %d echoes, %d lost, p50 %.2f ms, p99 %.2f ms", len(rtts), lost, res.P50Ms, res.P99Ms)

	if o.pid > 0 {
		// Let the proxy finish its last writes before reading its memory.
		select {
		case <-time.After(o.settle):
		case <-ctx.Done():
		}
		kib, err := procstat.RSSKiB(o.pid)
		if err != nil {
			return res, err
		}
		res.RSSOpenKiB = kib
		res.KiBPerSocket = float64(kib-res.RSSBeforeKiB) / float64(res.Open)
		log.Printf("wsload: proxy VmRSS %d → %d KiB, %.1f KiB per socket", res.RSSBeforeKiB, kib, res.KiBPerSocket)
	}
	return res, nil
}

// raiseFileLimit lifts the soft limit on open files to the hard one: each
// socket is a file descriptor.
func raiseFileLimit() {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err == nil && l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			fmt.Fprintf(os.Stderr, "wsload: raising the open-file limit: %v\n", err)
		}
	}
}
