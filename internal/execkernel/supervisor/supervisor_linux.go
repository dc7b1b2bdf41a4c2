package supervisor

import (
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// prSetChildSubreaper is prctl's PR_SET_CHILD_SUBREAPER (Linux 3.4).
const prSetChildSubreaper = 36

func init() {
	if len(os.Args) < 3 || os.Args[0] != Arg0 || os.Getenv(Env) != "1" {
		return
	}
	// syscall.Exit rather than os.Exit: under the race detector, os.Exit
	// waits a second for late race reports, which a stopped step's worker
	// would wait for too. Nothing is left to flush.
	syscall.Exit(supervise(os.Args[1], os.Args[2:]))
}

func supervise(dir string, argv []string) int {
	runtime.LockOSThread() // init runs on the main thread: the step's Pdeathsig fires only when this process dies
	syscall.CloseOnExec(LifelineFD)
	syscall.CloseOnExec(StatusFD)
	status := os.NewFile(StatusFD, "status")
	report := func(line string) { _, _ = status.WriteString(line + "\n") }
	defer os.RemoveAll(dir)

	if _, _, errno := syscall.RawSyscall6(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0, 0, 0, 0); errno != 0 {
		report("error set child subreaper: " + errno.Error())
		return 0
	}
	lifeline := make(chan struct{})
	go func() {
		f := os.NewFile(LifelineFD, "lifeline")
		buf := make([]byte, 64)
		for {
			if _, err := f.Read(buf); err != nil {
				close(lifeline)
				return
			}
		}
	}()
	env := make([]string, 0, len(os.Environ()))
	for _, kv := range os.Environ() {
		if len(kv) < len(Env)+1 || kv[:len(Env)+1] != Env+"=" {
			env = append(env, kv)
		}
	}
	pid, err := syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{
		Dir: dir, Env: env, Files: []uintptr{0, 1, 2},
		Sys: &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
	})
	if err != nil {
		report("error " + err.Error())
		return 0
	}
	// The step holds stdin, stdout and stderr now; the worker sees EOF on
	// them once the step's group is gone.
	if devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0); err == nil {
		for fd := range 3 {
			_ = syscall.Dup3(int(devnull.Fd()), fd, 0)
		}
		devnull.Close()
	}
	report("pid " + strconv.Itoa(pid))

	// One goroutine reaps every child — the leader, and the orphans this
	// subreaper adopts — until none is left.
	leader := make(chan syscall.WaitStatus, 1)
	go func() {
		for {
			var ws syscall.WaitStatus
			wpid, err := syscall.Wait4(-1, &ws, 0, nil)
			switch {
			case err == syscall.EINTR:
			case err != nil:
				return
			case wpid == pid:
				leader <- ws
			}
		}
	}()
	var ws syscall.WaitStatus
	var kill <-chan time.Time
wait:
	for {
		select {
		case ws = <-leader:
			break wait
		case <-lifeline:
			lifeline = nil
			_ = syscall.Kill(-pid, syscall.SIGTERM)
			kill = time.After(StopGrace)
		case <-kill:
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
	}
	// The leader is gone; its group (whose id no new process can take
	// while a member lives) may not be.
	for deadline := time.Now().Add(DrainTimeout); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		err := syscall.Kill(-pid, syscall.SIGKILL)
		for {
			var s syscall.WaitStatus
			if wpid, err := syscall.Wait4(-1, &s, syscall.WNOHANG, nil); wpid <= 0 || err != nil {
				break
			}
		}
		if err == syscall.ESRCH {
			break
		}
	}
	_ = os.RemoveAll(dir)
	if ws.Signaled() {
		report("signal " + strconv.Itoa(int(ws.Signal())))
	} else {
		report("exit " + strconv.Itoa(ws.ExitStatus()))
	}
	return 0
}
