package caddymodule

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// loadChorus adapts a Caddyfile, lets patch change every chorus_proxy
// handler's JSON, and loads it into this process's Caddy.
func loadChorus(t *testing.T, src string, patch func(h map[string]any)) {
	t.Helper()
	raw, err := adapt(t, "Caddyfile", src)
	if err != nil {
		t.Fatalf("adapt: %v\n%s", err, src)
	}
	var cfg any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	if patch != nil {
		walkHandlers(cfg, "chorus_proxy", patch)
	}
	raw, _ = json.Marshal(cfg)
	if err := caddy.Load(raw, true); err != nil {
		t.Fatalf("load: %v", err)
	}
	t.Cleanup(func() { _ = caddy.Stop() })
}

func walkHandlers(v any, name string, f func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		if x["handler"] == name {
			f(x)
		}
		for _, e := range x {
			walkHandlers(e, name, f)
		}
	case []any:
		for _, e := range x {
			walkHandlers(e, name, f)
		}
	}
}

// appError is the AppError JSON a client gets.
type appError struct {
	ID         string `json:"id"`
	StatusCode int    `json:"status_code"`
	RequestID  string `json:"request_id"`
}

func fetch(t *testing.T, method, url string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

// TestHotPathFailures: the hot path's own errors are reverse_proxy's, in
// AppError JSON: a node that does not answer in read_timeout is 504; no
// node active is 503 after try_duration; a node that fails takes itself
// out (passive health) and a GET goes to the other node; a POST that a
// node may have received is not sent twice.
func TestHotPathFailures(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Caddy")
	}
	var slowHits atomic.Int32
	slow := newAppNode(t, "slow")
	release := make(chan struct{})
	defer close(release)
	slow.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v4/system/ping" {
			return
		}
		slowHits.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	// broken accepts and reads a request, then hangs up without a word.
	broken := newRecorder(t)
	broken.scripts["post"] = script{close: true}
	broken.scripts["get"] = script{close: true}
	good := newAppNode(t, "good")
	front1, front2, front3 := freeAddr(t), freeAddr(t), freeAddr(t)
	src := fmt.Sprintf(`{
	admin off
	persist_config off
	log {
		level ERROR
	}
}
http://:%s {
	bind 127.0.0.1
	chorus %s {
		cluster hotslow
		health_interval 50ms
		health_passes 1
		slow_start 0s
		try_duration 1s
	}
}
http://:%s {
	bind 127.0.0.1
	chorus %s %s {
		cluster hotretry
		health_interval 50ms
		health_passes 1
		passive_fails 1000
		slow_start 0s
		try_duration 2s
	}
}
http://:%s {
	bind 127.0.0.1
	chorus 127.0.0.1:1 {
		cluster hotnone
		health_interval 50ms
		try_duration 300ms
	}
}
`, port(front1), slow.addr(), port(front2), broken.addr(), good.addr(), port(front3))
	loadChorus(t, src, func(h map[string]any) {
		if h["cluster"] == "hotslow" {
			h["read_timeout"] = int64(200 * time.Millisecond)
		}
	})
	waitUntil(t, "nodes active", func() bool {
		a, b := lookupCluster("hotslow"), lookupCluster("hotretry")
		return a != nil && b != nil && a.pool.Load() != nil && b.pool.Load() != nil &&
			len(a.pool.Load().Active()) == 1 && len(b.pool.Load().Active()) == 2
	})

	t.Run("a node too slow is 504", func(t *testing.T) {
		code, hdr, body := fetch(t, "GET", "http://"+front1+"/api/v4/users/me")
		var e appError
		_ = json.Unmarshal([]byte(body), &e)
		if code != 504 || e.ID != "chorus.proxy.timeout.app_error" || e.StatusCode != 504 || hdr.Get("Content-Type") != "application/json" {
			t.Fatalf("%d %s %q", code, hdr.Get("Content-Type"), body)
		}
	})

	t.Run("no node active is 503", func(t *testing.T) {
		start := time.Now()
		code, _, body := fetch(t, "GET", "http://"+front3+"/api/v4/users/me")
		var e appError
		_ = json.Unmarshal([]byte(body), &e)
		if code != 503 || e.ID != "chorus.proxy.no_node.app_error" {
			t.Fatalf("%d %q", code, body)
		}
		if took := time.Since(start); took < 250*time.Millisecond {
			t.Fatalf("answered after %s; want it to wait for a node for try_duration", took)
		}
	})

	t.Run("a GET goes to the other node", func(t *testing.T) {
		p := lookupCluster("hotretry").pool.Load()
		for i := range 10 {
			code, _, body := fetch(t, "GET", "http://"+front2+"/diff/get")
			if code != 200 || !strings.Contains(body, `"node":"good"`) {
				t.Fatalf("GET %d: %d %q", i, code, body)
			}
		}
		st, _ := p.Status(broken.addr())
		if st.Requests == 0 {
			t.Fatalf("the broken node was never tried: %+v", st)
		}
		if st.InFlight != 0 {
			t.Fatalf("the broken node has %d requests in flight after all ended", st.InFlight)
		}
	})

	t.Run("a POST the node may have taken is not resent", func(t *testing.T) {
		broken.take()
		goodBefore := good.hits.Load()
		failed, ok := 0, 0
		for range 20 {
			code, _, body := fetch(t, "POST", "http://"+front2+"/diff/post")
			switch {
			case code == 502 && strings.Contains(body, "chorus.proxy.no_node.app_error"):
				failed++
			case code == 200:
				ok++
			default:
				t.Fatalf("POST: %d %q", code, body)
			}
		}
		atBroken, atGood := len(broken.take()), int(good.hits.Load()-goodBefore)
		if failed == 0 || atBroken != failed || atGood != ok {
			t.Fatalf("%d POSTs failed and %d went through; the broken node got %d, the good one %d: want each failed one sent once, to the broken node only", failed, ok, atBroken, atGood)
		}
	})
}

// TestHotPathCountsInFlight: a request through the hot path counts on
// its node until its answer is sent, so least connections and drains see
// it.
func TestHotPathCountsInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Caddy")
	}
	n := newAppNode(t, "n")
	release := make(chan struct{})
	n.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			<-release
		}
		io.WriteString(w, "done")
	})
	front := freeAddr(t)
	loadChorus(t, fmt.Sprintf("{\n\tadmin off\n\tpersist_config off\n}\nhttp://:%s {\n\tbind 127.0.0.1\n\tchorus %s {\n\t\tcluster hotcount\n\t\thealth_interval 50ms\n\t\thealth_passes 1\n\t}\n}\n", port(front), n.addr()), nil)
	c := lookupCluster("hotcount")
	waitUntil(t, "node active", func() bool { return c.pool.Load() != nil && len(c.pool.Load().Active()) == 1 })
	p := c.pool.Load()
	before, _ := p.Status(n.addr())
	done := make(chan string)
	go func() {
		_, _, body := fetch(t, "GET", "http://"+front+"/hold")
		done <- body
	}()
	waitUntil(t, "one request in flight", func() bool { st, _ := p.Status(n.addr()); return st.InFlight == 1 })
	close(release)
	if body := <-done; body != "done" {
		t.Fatalf("body %q", body)
	}
	waitUntil(t, "nothing in flight", func() bool { st, _ := p.Status(n.addr()); return st.InFlight == 0 })
	if st, _ := p.Status(n.addr()); st.Requests != before.Requests+1 {
		t.Fatalf("requests counted: %d → %d; want one more", before.Requests, st.Requests)
	}
}

// TestHotPathCancelReachesTheNode: a client that leaves cancels the
// node's request too, as reverse_proxy does.
func TestHotPathCancelReachesTheNode(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Caddy")
	}
	n := newAppNode(t, "n")
	cancelled := make(chan struct{})
	arrived := make(chan struct{}, 1)
	n.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/wait" {
			return
		}
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(20 * time.Second):
		}
	})
	front := freeAddr(t)
	loadChorus(t, fmt.Sprintf("{\n\tadmin off\n\tpersist_config off\n}\nhttp://:%s {\n\tbind 127.0.0.1\n\tchorus %s {\n\t\tcluster hotcancel\n\t\thealth_interval 50ms\n\t\thealth_passes 1\n\t}\n}\n", port(front), n.addr()), nil)
	c := lookupCluster("hotcancel")
	waitUntil(t, "node active", func() bool { return c.pool.Load() != nil && len(c.pool.Load().Active()) == 1 })
	conn, err := net.Dial("tcp", front)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
	<-arrived
	conn.Close()
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the node's request was not cancelled when the client left")
	}
}
