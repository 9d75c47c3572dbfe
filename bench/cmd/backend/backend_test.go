package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seed331fb32b/chorus/bench/internal/wsframe"
)

func TestBackendAnswersLikeAMattermostNode(t *testing.T) {
	srv := httptest.NewServer(newBackend())
	defer srv.Close()
	for _, tc := range []struct {
		name         string
		path         string
		ifNoneMatch  string
		wantStatus   int
		wantLen      int
		wantCacheCtl string
	}{
		{"ping is Mattermost's JSON, uncacheable", pingPath, "", 200, len(pingBody), "no-store"},
		{"users/me is 1 KB, uncacheable", apiPath, "", 200, 1024, "no-store"},
		{"2 KB static file is cacheable", static2kPath, "", 200, 2 << 10, "max-age=31556926, public"},
		{"200 KB static file is cacheable", static200Path, "", 200, 200 << 10, "max-age=31556926, public"},
		{"static file revalidates with its ETag", static2kPath, newStaticFile(2 << 10).etag[0], 304, 0, "max-age=31556926, public"},
		{"unknown path is a 404", "/nope", "", 404, -1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
			if tc.ifNoneMatch != "" {
				req.Header.Set("If-None-Match", tc.ifNoneMatch)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if tc.wantLen >= 0 && len(body) != tc.wantLen {
				t.Fatalf("body %d bytes, want %d", len(body), tc.wantLen)
			}
			if got := resp.Header.Get("Cache-Control"); got != tc.wantCacheCtl {
				t.Fatalf("Cache-Control %q, want %q", got, tc.wantCacheCtl)
			}
		})
	}
}

func TestBackendEchoesWebSocketFramesAndCountsOpenSockets(t *testing.T) {
	b := newBackend()
	srv := httptest.NewServer(b)
	defer srv.Close()
	c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	_, _ = io.WriteString(c, "GET "+wsPath+" HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: "+key+"\r\nSec-WebSocket-Version: 13\r\n\r\n")
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != wsframe.AcceptKey(key) {
		t.Fatalf("handshake answered %s, accept %q", resp.Status, resp.Header.Get("Sec-WebSocket-Accept"))
	}
	if _, err := wsframe.Write(c, wsframe.OpBinary, []byte("hello"), []byte{1, 2, 3, 4}, nil); err != nil {
		t.Fatal(err)
	}
	f, _, err := wsframe.Read(r, nil)
	if err != nil || string(f.Payload) != "hello" {
		t.Fatalf("echo %q, %v; want hello", f.Payload, err)
	}
	if n := b.count.wsOpen.Load(); n != 1 {
		t.Fatalf("ws_open %d with one socket open, want 1", n)
	}
	_ = c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for b.count.wsOpen.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("ws_open did not return to 0 after the client closed")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
