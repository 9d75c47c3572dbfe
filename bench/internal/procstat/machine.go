package procstat

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// MachineBusy returns the CPU time all cores of the machine have spent
// busy so far (user, nice, system, irq, softirq and steal of the "cpu" line
// of /proc/stat; idle and iowait are not busy). The difference over a
// window, minus what the benchmark's own processes used, is the load that
// other users of the machine added: the noise of that window.
func MachineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("reading machine CPU time: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return parseMachineBusy(line)
}

// parseMachineBusy reads the aggregate "cpu" line of /proc/stat.
func parseMachineBusy(line string) (time.Duration, error) {
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("malformed /proc/stat cpu line %q", line)
	}
	var busy int64
	// user nice system idle iowait irq softirq steal
	for i, name := range []string{"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"} {
		v, err := strconv.ParseInt(f[i+1], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("malformed %s in /proc/stat: %q", name, f[i+1])
		}
		if name != "idle" && name != "iowait" {
			busy += v
		}
	}
	return time.Duration(busy) * time.Second / userHZ, nil
}
