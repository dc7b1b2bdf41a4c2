package execkernel

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The supervisor is this very binary, executed again as
// "/proc/self/exe" with argv[0] supervisorArg0 and supervisorEnv=1 in its
// environment; the init function below then runs it instead of the
// program's main. Its argv: supervisorArg0, the step's directory, the
// step's argv. Its fds: 0, 1, 2 are handed to the step; 3 is the read end
// of the lifeline, whose write end only the worker holds; 4 is the write
// end of the status pipe.
const (
	supervisorArg0 = "crunch-exec-supervisor"
	supervisorEnv  = "CRUNCH_EXEC_SUPERVISOR"
	lifelineFD     = 3
	statusFD       = 4
)

// StopGrace is how long a stopped step's process group has between
// SIGTERM and SIGKILL.
const StopGrace = 500 * time.Millisecond

// drainTimeout bounds the killing of a step's leftover processes.
const drainTimeout = 3 * time.Second

func init() {
	if len(os.Args) < 3 || os.Args[0] != supervisorArg0 || os.Getenv(supervisorEnv) != "1" {
		return
	}
	// syscall.Exit rather than os.Exit: under the race detector, os.Exit
	// waits a second for late race reports, which a stopped step's worker
	// would wait for too. Nothing is left to flush.
	syscall.Exit(supervise(os.Args[1], os.Args[2:]))
}

// supervise runs one step as the leader of its own process group and
// makes sure no process of that group outlives it:
//
//   - when the step's leader exits, whatever is left of its group is
//     killed (SIGKILL) and reaped;
//   - when the lifeline reaches EOF — the worker closed it to stop the
//     step, or the worker died, even by SIGKILL, since the kernel closes a
//     dead process's files — or a SIGTERM arrives (the supervisor's
//     parent-death signal), the group gets SIGTERM, and SIGKILL StopGrace
//     later.
//
// The supervisor is a child subreaper, so the step's orphaned descendants
// become its children and are reaped rather than left as zombies. It then
// removes the step's directory and writes the step's status to the
// status pipe: "pid N" when it started, then "exit N", "signal N" or
// "error …".
func supervise(dir string, argv []string) int {
	runtime.LockOSThread() // init runs on the main thread: the step's Pdeathsig then fires only when this process dies
	syscall.CloseOnExec(lifelineFD)
	syscall.CloseOnExec(statusFD)
	status := os.NewFile(statusFD, "status")
	report := func(format string, args ...any) { fmt.Fprintf(status, format+"\n", args...) }
	defer os.RemoveAll(dir)

	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGCHLD)
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		report("error set child subreaper: %v", err)
		return 0
	}
	lifeline := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.NewFile(lifelineFD, "lifeline"))
		close(lifeline)
	}()
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, supervisorEnv+"=") })
	pid, err := syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{
		Dir: dir, Env: env, Files: []uintptr{0, 1, 2},
		Sys: &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
	})
	if err != nil {
		report("error %v", err)
		return 0
	}
	// The step holds stdin, stdout and stderr now; the worker sees EOF on
	// them once the step's group is gone.
	if devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0); err == nil {
		for fd := range 3 {
			_ = unix.Dup3(int(devnull.Fd()), fd, 0)
		}
		devnull.Close()
	}
	report("pid %d", pid)

	var ws syscall.WaitStatus
	exited := false
	reap := func() {
		for {
			var s syscall.WaitStatus
			wpid, err := syscall.Wait4(-1, &s, syscall.WNOHANG, nil)
			if err == syscall.EINTR {
				continue
			}
			if err != nil || wpid <= 0 {
				return
			}
			if wpid == pid {
				ws, exited = s, true
			}
		}
	}
	var kill <-chan time.Time
	stop := func() {
		if kill == nil {
			_ = syscall.Kill(-pid, syscall.SIGTERM)
			kill = time.After(StopGrace)
		}
	}
	tick := time.NewTicker(50 * time.Millisecond) // in case a SIGCHLD is coalesced away
	defer tick.Stop()
	for reap(); !exited; reap() {
		select {
		case s := <-sigs:
			if s != syscall.SIGCHLD {
				stop()
			}
		case <-lifeline:
			lifeline = nil
			stop()
		case <-kill:
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		case <-tick.C:
		}
	}
	// The leader is gone; its group (whose id no new process can take
	// while a member lives) may not be.
	for deadline := time.Now().Add(drainTimeout); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		err := syscall.Kill(-pid, syscall.SIGKILL)
		reap()
		if err == syscall.ESRCH {
			break
		}
	}
	reap()
	_ = os.RemoveAll(dir)
	switch {
	case ws.Signaled():
		report("signal %d", int(ws.Signal()))
	default:
		report("exit %d", ws.ExitStatus())
	}
	return 0
}

// supervisorStatus is what a supervisor reported.
type supervisorStatus struct {
	pid int
	// final is the last line: "exit N", "signal N", "error …"; "" when
	// the supervisor ended without saying.
	final string
}

func readStatus(r io.Reader) supervisorStatus {
	var st supervisorStatus
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if n, ok := strings.CutPrefix(line, "pid "); ok {
			fmt.Sscan(n, &st.pid)
			continue
		}
		st.final = line
	}
	return st
}
