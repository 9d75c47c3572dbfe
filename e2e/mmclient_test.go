package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mmclientDir holds the Node.js compatibility script, its package.json and
// the lock file pinning @mattermost/client, @mattermost/types and ws.
const mmclientDir = "mmclient"

// TestMattermostClientCompatibility runs the official @mattermost/client
// (e2e/mmclient/compat.js) against a real chorus node: two users sign up,
// log in, make a team and a channel, post, read the channel, receive
// posted and typing on WebSocketClient, and get exactly the posts made
// while a socket was down, in order, after it reconnects. It needs Node.js
// 20 or later and npm; without them it skips, or fails under CI=true.
func TestMattermostClientCompatibility(t *testing.T) {
	nodeBin := requireTool(t, "node")
	npmInstall(t)
	base := startChatNode(t)

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodeBin, "compat.js", base)
	cmd.Dir = mmclientDir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil || !strings.Contains(out.String(), "compat: ok") {
		t.Fatalf("node compat.js %s: %v\n%s", base, err, out.String())
	}
}

// requireTool returns the path of a command, skipping the test when it is
// missing (failing under CI=true).
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found: the @mattermost/client compatibility test needs Node.js 20+ and npm", name)
		}
		t.Skipf("%s not found; set CI=true to fail instead", name)
	}
	return p
}

// npmInstall runs "npm ci" in mmclientDir when node_modules is missing or
// older than package-lock.json (npm's own hidden lock file,
// node_modules/.package-lock.json, is written by every install). make test
// runs the same step before the tests.
func npmInstall(t *testing.T) {
	t.Helper()
	lock, err := os.Stat(filepath.Join(mmclientDir, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	installed, err := os.Stat(filepath.Join(mmclientDir, "node_modules", ".package-lock.json"))
	if err == nil && !installed.ModTime().Before(lock.ModTime()) {
		return
	}
	npm := requireTool(t, "npm")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = mmclientDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", mmclientDir, err, out)
	}
}

// startChatNode runs a chorus node on a free loopback port with a fresh
// SQLite database and open sign-up, and returns its base URL once it
// answers pings. The node is stopped with SIGTERM at the end of the test.
func startChatNode(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", freePorts(t, 1))
	cfg := fmt.Sprintf(`{"ServiceSettings": {"ListenAddress": %q}, "TeamSettings": {"EnableOpenServer": true},
		"SqlSettings": {"DriverName": "sqlite", "DataSource": %q}}`, addr, filepath.Join(dir, "chorus.db"))
	cfgPath := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "node.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(chorusBin, "node", "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logFile.Close(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("node log:\n%s", tail(b, 4000))
		}
	})
	base := "http://" + addr
	client := &http.Client{Timeout: 2 * time.Second}
	waitFor(t, 30*time.Second, "the node to answer pings", func() bool {
		select {
		case <-done:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("node exited before it was ready:\n%s", b)
		default:
		}
		code, err := ping(client, base)
		return err == nil && code == http.StatusOK
	})
	return base
}
