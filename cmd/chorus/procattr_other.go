//go:build !linux

package main

import "syscall"

// childProcAttr has nothing to add where the kernel cannot tie a child's
// life to its parent; the demo stops its nodes itself.
func childProcAttr() *syscall.SysProcAttr { return nil }
