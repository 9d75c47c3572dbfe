package main

import "syscall"

// childProcAttr makes the kernel send SIGTERM to a node if the demo dies
// without stopping it (even by SIGKILL), so no node outlives the demo.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
