package e2e

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"testing"
	"time"
)

// TestFrontDoorDrain drains a node holding 20 requests in flight and 50
// open WebSockets through the admin API: no request fails, none new goes
// to it, its sockets are closed only after drain_grace and spread over
// drain_spread, and it is reported drained.
func TestFrontDoorDrain(t *testing.T) {
	const (
		grace    = time.Second
		spread   = 2 * time.Second
		inFlight = 20
		sockets  = 50
	)
	a, b := newTestNode(t, "a", 3*time.Second), newTestNode(t, "b", 3*time.Second)
	f := startFrontDoor(t, func(site, admin string) string {
		return fmt.Sprintf("{\n\tadmin %s\n\tpersist_config off\n}\nhttp://%s {\n\tchorus %s %s {\n\t\t%s\n\t\tslow_start 0s\n\t\tdrain_grace %s\n\t\tdrain_spread %s\n\t}\n}\n",
			admin, site, a.addr(), b.addr(), fastHealth(), grace, spread)
	})
	f.waitState(t, a.addr(), "active", 10*time.Second)
	f.waitState(t, b.addr(), "active", 10*time.Second)

	// Put everything on a: drain the idle b (drained at once), load a,
	// then bring b back.
	if code := f.post(t, "/chorus/drain", `{"node":"`+b.addr()+`"}`); code != 200 {
		t.Fatalf("draining b: %d", code)
	}
	f.waitState(t, b.addr(), "drained", 5*time.Second)

	type closed struct {
		at  time.Time
		err error
	}
	closes := make(chan closed, sockets)
	for i := range sockets {
		c, node := dialWS(t, f.url)
		if node != "a" {
			t.Fatalf("socket %d went to %q while b is drained", i, node)
		}
		echo(t, c, "hi")
		go func() {
			_, _, err := c.ReadMessage() // blocks until the drain closes it
			closes <- closed{time.Now(), err}
		}()
	}

	results := make(chan string, inFlight)
	client := &http.Client{Timeout: 20 * time.Second}
	for range inFlight {
		go func() {
			resp, err := client.Get(f.url + "/slow")
			if err != nil {
				results <- "error: " + err.Error()
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			results <- fmt.Sprintf("%d %s", resp.StatusCode, body)
		}()
	}
	waitFor(t, 10*time.Second, "20 requests in flight on a", func() bool { return f.nodes(t)[a.addr()].InFlight == inFlight })
	if st := f.nodes(t)[a.addr()]; st.WebSockets != sockets {
		t.Fatalf("a holds %d WebSockets; want %d", st.WebSockets, sockets)
	}
	if code := f.post(t, "/chorus/undrain", `{"node":"`+b.addr()+`"}`); code != 200 {
		t.Fatalf("undraining b: %d", code)
	}
	f.waitState(t, b.addr(), "active", 5*time.Second)

	drainStart := time.Now()
	if code := f.post(t, "/chorus/drain", `{"node":"`+a.addr()+`"}`); code != 200 {
		t.Fatalf("draining a: %d", code)
	}
	if st := f.nodes(t)[a.addr()]; st.State != "draining" || st.DrainBy != "admin" {
		t.Fatalf("a after the drain request: %+v", st)
	}
	hitsBefore := a.hits.Load()
	for i := range 30 {
		resp, err := client.Get(f.url + "/api/v4/users/me")
		if err != nil {
			t.Fatalf("request %d during the drain: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("X-Node") != "b" {
			t.Fatalf("request %d during the drain: %d from %q; want 200 from b", i, resp.StatusCode, resp.Header.Get("X-Node"))
		}
	}
	if c, node := dialWS(t, f.url); node != "b" {
		t.Fatalf("a new WebSocket during the drain went to %q; want b", node)
	} else {
		echo(t, c, "new")
	}
	if got := a.hits.Load(); got != hitsBefore {
		t.Fatalf("the draining node got %d new requests", got-hitsBefore)
	}

	for range inFlight {
		if r := <-results; r != "200 a" {
			t.Fatalf("a request in flight during the drain ended with %q; want 200 a", r)
		}
	}
	var times []time.Time
	for range sockets {
		select {
		case c := <-closes:
			times = append(times, c.at)
		case <-time.After(grace + spread + 10*time.Second):
			t.Fatalf("only %d of %d sockets closed", len(times), sockets)
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	first, last := times[0].Sub(drainStart), times[len(times)-1].Sub(drainStart)
	t.Logf("sockets closed from +%s to +%s after the drain started (grace %s, spread %s)", first, last, grace, spread)
	if first < grace {
		t.Errorf("first socket closed %s after the drain started; want after the %s grace", first, grace)
	}
	// Batches are scheduled over the spread; the last one leaves a
	// step before its end.
	if span := last - first; span < spread/2 {
		t.Errorf("sockets closed within %s; want them spread over %s", span, spread)
	}
	waitFor(t, 10*time.Second, "a drained", func() bool { return f.nodes(t)[a.addr()].State == "drained" })
	if st := f.nodes(t)[a.addr()]; st.Forced != sockets || st.InFlight != 0 || st.WebSockets != 0 {
		t.Fatalf("a when drained: %+v", st)
	}
}

// TestFrontDoorDrainUnknownNode is 404.
func TestFrontDoorDrainUnknownNode(t *testing.T) {
	a := newTestNode(t, "a", 0)
	f := startFrontDoor(t, func(site, admin string) string {
		return fmt.Sprintf("{\n\tadmin %s\n\tpersist_config off\n}\nhttp://%s {\n\tchorus %s\n}\n", admin, site, a.addr())
	})
	if code := f.post(t, "/chorus/drain", `{"node":"127.0.0.1:1"}`); code != 404 {
		t.Fatalf("draining an unknown node: %d; want 404", code)
	}
}
