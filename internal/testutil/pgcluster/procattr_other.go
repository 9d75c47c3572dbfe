//go:build !linux

package pgcluster

import "syscall"

// canSwitchUser reports whether the tools can be started as another user. Off
// Linux they run as the current user, and a test run as root fails with
// initdb's own refusal.
const canSwitchUser = false

// sysProcAttr returns nil: no credentials to set and no parent-death signal.
func (a account) sysProcAttr(server bool) *syscall.SysProcAttr { return nil }
