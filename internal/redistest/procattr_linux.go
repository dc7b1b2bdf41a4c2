package redistest

import (
	"os"
	"syscall"
)

// sysProcAttr puts a redis-server in its own process group (so a terminal's
// Ctrl-C reaches the test binary, which stops it, rather than the server
// directly) and has the kernel SIGKILL it when the thread that started it dies,
// so a killed test binary leaves no redis-server behind (see spawn).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup sends SIGKILL to p's process group (p and any child it forked,
// such as an append-only file rewrite).
func killGroup(p *os.Process) {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		_ = p.Kill()
	}
}
