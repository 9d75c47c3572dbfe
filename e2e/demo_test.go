package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// demoRun is a running "chorus demo" and what it printed.
type demoRun struct {
	cmd    *exec.Cmd
	front  string // front door base URL
	admin  string // the front door's Caddy admin API, host:port
	data   string
	pids   map[int]int // node number → pid
	addrs  map[int]string
	exited chan error // receives the demo's exit status once

	mu  sync.Mutex // guards out
	out bytes.Buffer
}

var nodeLine = regexp.MustCompile(`node (\d+)\s+http://(\S+)\s+pid (\d+)\s+ready`)

// startDemo runs the demo with n nodes on free ports and waits for it to
// report that it is up.
func startDemo(t *testing.T, n int) *demoRun {
	t.Helper()
	ports := freePorts(t, 2*n+2)
	d := &demoRun{data: t.TempDir(), pids: map[int]int{}, addrs: map[int]string{}}
	httpAddr := fmt.Sprintf("127.0.0.1:%d", ports)
	d.front = "http://" + httpAddr
	d.admin = fmt.Sprintf("127.0.0.1:%d", ports+1)
	d.cmd = exec.Command(chorusBin, "demo",
		"--nodes", strconv.Itoa(n),
		"--http", httpAddr,
		"--admin", d.admin,
		"--port", strconv.Itoa(ports+2),
		"--gossip-port", strconv.Itoa(ports+2+n),
		"--data", d.data)
	up := make(chan struct{})
	var upOnce sync.Once
	d.cmd.Stdout = &lineWriter{onLine: func(line string) {
		d.mu.Lock()
		d.out.WriteString(line + "\n")
		if m := nodeLine.FindStringSubmatch(line); m != nil {
			num, _ := strconv.Atoi(m[1])
			pid, _ := strconv.Atoi(m[3])
			d.pids[num], d.addrs[num] = pid, m[2]
		}
		d.mu.Unlock()
		if strings.HasPrefix(line, "Press Ctrl-C") {
			upOnce.Do(func() { close(up) })
		}
	}}
	d.cmd.Stderr = d.cmd.Stdout
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		for _, pid := range d.pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if t.Failed() {
			t.Logf("demo output:\n%s", d.output())
			logs, _ := filepath.Glob(filepath.Join(d.data, "node-*", "node.log"))
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				t.Logf("%s:\n%s", l, tail(b, 3000))
			}
		}
	})

	exited := make(chan error, 1)
	go func() { exited <- d.cmd.Wait() }()
	d.exited = exited
	select {
	case <-up:
	case err := <-exited:
		t.Fatalf("demo exited before it was up: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("demo not up within 60s")
	}
	if len(d.pids) != n {
		t.Fatalf("demo reported %d nodes; want %d:\n%s", len(d.pids), n, d.output())
	}
	return d
}

func (d *demoRun) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.out.String()
}

// lineWriter calls onLine for each complete line written to it.
type lineWriter struct {
	onLine func(string)
	buf    []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.onLine(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// ping GETs the ping route at base and returns the status code.
func ping(client *http.Client, base string) (int, error) {
	resp, err := client.Get(base + "/api/v4/system/ping")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// waitFor polls cond every 100 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// TestDemoSurvivesNodeKillAndStopsCleanly is the walking skeleton end to
// end: three nodes behind the front door, one SIGKILLed, the front door
// routes around it, and SIGTERM leaves no process behind.
func TestDemoSurvivesNodeKillAndStopsCleanly(t *testing.T) {
	d := startDemo(t, 3)
	client := &http.Client{Timeout: 5 * time.Second}

	if code, err := ping(client, d.front); err != nil || code != http.StatusOK {
		t.Fatalf("ping through the front door: %d, %v; want 200", code, err)
	}
	for num, addr := range d.addrs {
		if code, err := ping(client, "http://"+addr); err != nil || code != http.StatusOK {
			t.Fatalf("ping node %d directly: %d, %v; want 200", num, code, err)
		}
	}

	victim := d.pids[1]
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The front door has taken the node out once its one health checker
	// failed it (the admin API reports it unhealthy).
	fd := &frontDoor{admin: d.admin}
	waitFor(t, 20*time.Second, "the front door's health checker to fail node 1", func() bool {
		return fd.nodes(t)[d.addrs[1]].State == "unhealthy"
	})
	for i := range 50 {
		code, err := ping(client, d.front)
		if err != nil || code != http.StatusOK {
			t.Fatalf("ping %d of 50 through the front door after node 1 died: %d, %v; want 200", i+1, code, err)
		}
	}

	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.exited:
		if err != nil {
			t.Fatalf("demo exited with %v after SIGTERM; want 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo still running 30s after SIGTERM")
	}
	for num, pid := range d.pids {
		if !processGone(pid) {
			t.Errorf("node %d (pid %d) still running after the demo exited", num, pid)
		}
	}
	if !strings.Contains(d.output(), "no process left behind") {
		t.Errorf("demo did not report a clean stop:\n%s", d.output())
	}
}
