package procstat

import (
	"os"
	"testing"
	"time"
)

func TestParseStatTicksCountsFieldsAfterTheName(t *testing.T) {
	for _, tc := range []struct {
		name string
		line string
		want int64
	}{
		{"plain name", "42 (nginx) S 1 42 42 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 1 0 100 1000 200", 325},
		{"name with spaces and parens", "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 1 1 1", 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatTicks([]byte(tc.line))
			if err != nil || got != tc.want {
				t.Fatalf("parseStatTicks = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func TestParseVmRSSReadsKiB(t *testing.T) {
	got, err := parseVmRSS([]byte("Name:\tx\nVmPeak:\t 100 kB\nVmRSS:\t    2048 kB\nThreads: 1\n"))
	if err != nil || got != 2048 {
		t.Fatalf("parseVmRSS = %d, %v; want 2048", got, err)
	}
}

func TestOwnProcessIsMeasurable(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here")
	}
	pid := os.Getpid()
	if rss, err := RSSKiB(pid); err != nil || rss <= 0 {
		t.Fatalf("RSSKiB(self) = %d, %v", rss, err)
	}
	if _, err := CPU(pid); err != nil {
		t.Fatalf("CPU(self): %v", err)
	}
	if tree := Tree(pid); len(tree) == 0 || tree[0] != pid {
		t.Fatalf("Tree(self) = %v", tree)
	}
}

func TestParseMachineBusyLeavesOutIdleAndIOWait(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	got, err := parseMachineBusy("cpu  100 1 50 9000 40 2 7 0 0 0")
	if want := 160 * time.Second / 100; err != nil || got != want {
		t.Fatalf("parseMachineBusy = %v, %v; want %v", got, err, want)
	}
}
