// Package procstat reads what the benchmark reports about a process tree
// from Linux's /proc: CPU time (utime+stime of /proc/PID/stat) and resident
// memory (VmRSS of /proc/PID/status), each summed over a process and all its
// descendants, so that NGINX's master and workers count as one proxy.
//
// It must not import anything of Chorus.
//
// Entry points: [CPU], [RSSKiB], [Tree], [MachineBusy].
package procstat
