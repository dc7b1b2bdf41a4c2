//go:build !linux

package redistest

import (
	"os"
	"syscall"
)

// sysProcAttr returns nil: the parent-death signal exists only on Linux, so
// elsewhere a test binary killed with SIGKILL may leave its redis-server
// running.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup kills p with SIGKILL.
func killGroup(p *os.Process) { _ = p.Kill() }
