package procstat

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of utime and stime in /proc/PID/stat. Linux exports
// USER_HZ=100 to user space on every architecture Go supports (the kernel's
// own HZ may differ; it is converted), so sysconf(_SC_CLK_TCK) is 100.
const userHZ = 100

// Tree returns pid followed by all its descendants, found through
// /proc/PID/task/TID/children (children are listed under the thread that
// forked them, so every thread is read). A process that exits meanwhile is
// skipped.
func Tree(pid int) []int {
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", out[i]))
		for _, f := range tasks {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			for _, s := range strings.Fields(string(b)) {
				if c, err := strconv.Atoi(s); err == nil {
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// CPU returns the user+system CPU time consumed so far by pid and its
// descendants (children that already exited and were reaped are not
// counted). Resolution is 10 ms.
func CPU(pid int) (time.Duration, error) {
	var ticks int64
	for i, p := range Tree(pid) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			if i == 0 {
				return 0, fmt.Errorf("reading CPU time of %d: %w", pid, err)
			}
			continue // a descendant exited meanwhile
		}
		t, err := parseStatTicks(b)
		if err != nil {
			return 0, fmt.Errorf("reading CPU time of %d: %w", p, err)
		}
		ticks += t
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// parseStatTicks returns utime+stime (fields 14 and 15) of a /proc/PID/stat
// line. The command name (field 2) is in parentheses and may itself hold
// spaces or parentheses, so fields are counted after the last ')'.
func parseStatTicks(b []byte) (int64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed stat line %q", b)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state), so field n is f[n-3].
	if len(f) < 13 {
		return 0, fmt.Errorf("stat line has %d fields after the name", len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed utime/stime %q %q", f[11], f[12])
	}
	return utime + stime, nil
}

// RSSKiB returns the resident memory (VmRSS) of pid and its descendants, in
// KiB. Pages shared between them (NGINX's master and workers share code and
// the configuration) count once per process, which cancels out in a
// before/after difference.
func RSSKiB(pid int) (int64, error) {
	var sum int64
	for i, p := range Tree(pid) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p))
		if err != nil {
			if i == 0 {
				return 0, fmt.Errorf("reading VmRSS of %d: %w", pid, err)
			}
			continue
		}
		kib, err := parseVmRSS(b)
		if err != nil {
			return 0, fmt.Errorf("reading VmRSS of %d: %w", p, err)
		}
		sum += kib
	}
	return sum, nil
}

// parseVmRSS returns the VmRSS line of /proc/PID/status in KiB.
func parseVmRSS(b []byte) (int64, error) {
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest) // "12345 kB"
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("malformed VmRSS line %q", line)
			}
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS line (a zombie or kernel thread?)")
}
