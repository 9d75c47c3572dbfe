//go:build linux

package pgcluster

import "syscall"

// canSwitchUser reports whether the tools can be started as another user.
const canSwitchUser = true

// sysProcAttr returns the attributes to start a tool with as a. A server (the
// postmaster) also gets SIGQUIT, PostgreSQL's immediate shutdown, when the
// test process dies without running its Cleanup (a -timeout panic, a
// SIGKILL), so no server outlives the test. Go sets the credentials before
// the parent-death signal in the child, and the kernel clears that signal
// only on a later credential change, so both hold. Linux sends it when the
// forking thread exits, not the process (golang/go#27505); the Go runtime
// ends a thread only when a goroutine exits while locked to it, which no test
// helper here does.
func (a account) sysProcAttr(server bool) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{}
	if a.switched {
		attr.Credential = &syscall.Credential{Uid: uint32(a.uid), Gid: uint32(a.gid)}
	}
	if server {
		attr.Pdeathsig = syscall.SIGQUIT
	}
	return attr
}
