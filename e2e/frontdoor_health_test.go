package e2e

import (
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Fast health settings for the process tests: a node leaves after
// healthFails × healthInterval (plus a probe's timeout) and returns after
// healthPasses × healthInterval.
const (
	healthInterval = 200 * time.Millisecond
	healthTimeout  = 300 * time.Millisecond
	healthFails    = 2
	healthPasses   = 2
)

func fastHealth() string {
	return fmt.Sprintf("health_interval %s\n\t\thealth_timeout %s\n\t\thealth_fails %d\n\t\thealth_passes %d",
		healthInterval, healthTimeout, healthFails, healthPasses)
}

// TestFrontDoorTakesOutANodeWhosePingFails stops a real node (SIGSTOP: its
// socket accepts, its ping never answers), sees it leave within
// health_fails probes, and come back after health_passes once resumed.
func TestFrontDoorTakesOutANodeWhosePingFails(t *testing.T) {
	db := filepath.Join(t.TempDir(), "chorus.db")
	n1, n2 := startAppNode(t, db), startAppNode(t, db)
	f := startFrontDoor(t, func(site, admin string) string {
		return fmt.Sprintf("{\n\tadmin %s\n\tpersist_config off\n}\nhttp://%s {\n\tchorus %s %s {\n\t\t%s\n\t\tslow_start 0s\n\t}\n}\n",
			admin, site, n1.addr, n2.addr, fastHealth())
	})
	f.waitState(t, n1.addr, "active", 10*time.Second)
	f.waitState(t, n2.addr, "active", 10*time.Second)

	if err := n1.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	took := f.waitState(t, n1.addr, "unhealthy", 10*time.Second)
	// healthFails probes, each failing by its timeout, one interval apart;
	// the rest is scheduling slack on a shared machine.
	bound := healthFails*(healthInterval+healthTimeout) + 2*time.Second
	t.Logf("stopped node out after %s (health_fails × health_interval = %s)", took, healthFails*healthInterval)
	if took > bound {
		t.Errorf("stopped node left after %s; want within %s", took, bound)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	for i := range 20 {
		if code, err := ping(client, f.url); err != nil || code != 200 {
			t.Fatalf("request %d with node 1 out: %d, %v", i, code, err)
		}
	}

	if err := n1.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	back := f.waitState(t, n1.addr, "active", 10*time.Second)
	t.Logf("resumed node active after %s (health_passes × health_interval = %s)", back, healthPasses*healthInterval)
	if back > healthPasses*(healthInterval+healthTimeout)+2*time.Second {
		t.Errorf("resumed node returned after %s", back)
	}
}

// TestFrontDoorSIGKILLCostsNoIdempotentRequest kills a real node while
// clients send GETs through the front door: a refused connection is
// retried on another node and takes the dead one out at once, so no
// request fails.
func TestFrontDoorSIGKILLCostsNoIdempotentRequest(t *testing.T) {
	db := filepath.Join(t.TempDir(), "chorus.db")
	nodes := []*appProcess{startAppNode(t, db), startAppNode(t, db), startAppNode(t, db)}
	f := startFrontDoor(t, func(site, admin string) string {
		return fmt.Sprintf("{\n\tadmin %s\n\tpersist_config off\n}\nhttp://%s {\n\tchorus %s %s %s {\n\t\t%s\n\t\tslow_start 0s\n\t}\n}\n",
			admin, site, nodes[0].addr, nodes[1].addr, nodes[2].addr, fastHealth())
	})
	for _, n := range nodes {
		f.waitState(t, n.addr, "active", 10*time.Second)
	}

	var (
		ok, failed atomic.Int64
		mu         sync.Mutex
		failures   []string
		detected   atomic.Bool
		afterOK    atomic.Int64
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for i := 0; i < 5000; i++ { // bounded: the loop also ends on stop
				select {
				case <-stop:
					return
				default:
				}
				code, err := ping(client, f.url+"")
				if err != nil || code != 200 {
					failed.Add(1)
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%d %v (after detection: %v)", code, err, detected.Load()))
					mu.Unlock()
					continue
				}
				ok.Add(1)
				if detected.Load() {
					afterOK.Add(1)
				}
			}
		}()
	}
	waitFor(t, 10*time.Second, "traffic flowing", func() bool { return ok.Load() > 100 })
	if err := nodes[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	f.waitState(t, nodes[0].addr, "unhealthy", 10*time.Second)
	detected.Store(true)
	waitFor(t, 20*time.Second, "200 requests after detection", func() bool { return afterOK.Load() >= 200 })
	close(stop)
	wg.Wait()
	t.Logf("%d requests succeeded, %d failed", ok.Load(), failed.Load())
	if failed.Load() > 0 {
		t.Fatalf("%d requests failed: %v", failed.Load(), failures)
	}
}
