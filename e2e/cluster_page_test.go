package e2e

import (
	"context"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// chromiumBin returns the headless browser for page tests (Debian's
// chromium package: apt-get install chromium), skipping the test when there
// is none, or failing it under CI=true.
func chromiumBin(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found (apt-get install chromium)")
	}
	t.Skip("chromium not found (apt-get install chromium; set CI=true to fail instead)")
	return ""
}

// artifactDir is where page screenshots are kept: CHORUS_TEST_ARTIFACTS, or
// chorus-artifacts in the temporary directory.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CHORUS_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "chorus-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browse loads url in headless Chromium, lets its scripts run for budget
// of virtual time, and returns the DOM; with screenshot set it also saves
// a PNG there.
func browse(t *testing.T, chromium, url, screenshot string, budget time.Duration) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	args := []string{"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--hide-scrollbars", "--window-size=1600,360",
		"--user-data-dir=" + t.TempDir(),
		"--virtual-time-budget=" + strconv.Itoa(int(budget.Milliseconds()))}
	if screenshot != "" {
		args = append(args, "--screenshot="+screenshot)
	} else {
		args = append(args, "--dump-dom")
	}
	cmd := exec.CommandContext(ctx, chromium, append(args, url)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %s: %v", url, err)
	}
	return string(out)
}

var pageCounts = regexp.MustCompile(`data-healthy="(\d+)" data-unhealthy="(\d+)"`)

// pageHealth loads the page and returns its healthy and unhealthy counts.
func pageHealth(t *testing.T, chromium, url string) (healthy, unhealthy int) {
	t.Helper()
	dom := browse(t, chromium, url, "", 3*time.Second)
	m := pageCounts.FindStringSubmatch(dom)
	if m == nil {
		t.Logf("page without counts:\n%s", tail([]byte(dom), 1500))
		return -1, -1
	}
	healthy, _ = strconv.Atoi(m[1])
	unhealthy, _ = strconv.Atoi(m[2])
	return healthy, unhealthy
}

// The High Availability page in a real headless Chromium: three green
// nodes, then one red after a SIGKILL. Screenshots of both are kept in
// artifactDir. The browser reaches node A through a proxy that adds a
// system admin's token, as a signed-in admin's cookie would.
func TestClusterPageInChromium(t *testing.T) {
	chromium := chromiumBin(t)
	nodes, admin := startCluster(t, nodeOptions{}, "A", "B", "C")
	a, c := nodes[0], nodes[2]

	target, _ := url.Parse(a.base)
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Header.Set("Authorization", "Bearer "+admin.token)
	}}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	page := front.URL + "/admin/cluster"
	dir := artifactDir(t)

	waitFor(t, 30*time.Second, "the page to show three healthy nodes", func() bool {
		h, u := pageHealth(t, chromium, page)
		return h == 3 && u == 0
	})
	green := filepath.Join(dir, "cluster-page-3-green.png")
	browse(t, chromium, page, green, 3*time.Second)
	t.Logf("screenshot: %s", green)

	c.kill(t)
	waitFor(t, 30*time.Second, "the page to show the killed node red", func() bool {
		h, u := pageHealth(t, chromium, page)
		return h == 2 && u == 1
	})
	red := filepath.Join(dir, "cluster-page-1-red.png")
	browse(t, chromium, page, red, 3*time.Second)
	t.Logf("screenshot: %s", red)
	for _, p := range []string{green, red} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("screenshot %s missing: %v", p, err)
		}
	}
}
