package execkernel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/crunchjobs/crunch/internal/execkernel/supervisor"
	"github.com/crunchjobs/crunch/tasks"
)

// StopGrace is how long a stopped step's process group has between
// SIGTERM and SIGKILL.
const StopGrace = supervisor.StopGrace

// supervisorWait bounds the wait for a stopped step's supervisor, which
// itself needs at most StopGrace plus its drain timeout; past it the
// supervisor is killed.
const supervisorWait = StopGrace + supervisor.DrainTimeout + time.Second

// pipeWait bounds the wait for stdout and stderr to reach EOF once the
// supervisor has exited: only a process that left the step's group could
// still hold them.
const pipeWait = time.Second

// step runs one step of the kernel under a supervisor (package supervisor) in
// a fresh temporary directory, writing stdin to it, and returns its
// stdout. A step that fails returns a *StepError; a step stopped because
// ctx ended returns an error wrapping ctx's cause.
func (r *Runner) step(ctx context.Context, step string, stdin [][]byte) (*stepOutput, error) {
	if ctx.Err() != nil {
		return nil, fmt.Errorf("kernel %s, %s step: not started: %w", r.k.name, step, context.Cause(ctx))
	}
	dir, err := os.MkdirTemp("", "crunch-"+r.k.name+"-"+step+"-")
	if err != nil {
		return nil, fmt.Errorf("kernel %s, %s step: working directory: %w", r.k.name, step, err)
	}
	defer os.RemoveAll(dir)

	var p pipes
	defer p.closeAll()
	stdinR, stdinW := p.pipe()
	stdoutR, stdoutW := p.pipe()
	stderrR, stderrW := p.pipe()
	lifeR, lifeW := p.pipe()
	statusR, statusW := p.pipe()
	if p.err != nil {
		return nil, fmt.Errorf("kernel %s, %s step: pipes: %w", r.k.name, step, p.err)
	}
	args := append([]string{supervisor.Arg0, dir}, r.argv...)
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe", // this binary, which links package supervisor
		Args:       append(args, step),
		Env:        append(stepEnv(os.Environ(), tasks.JobID(ctx), r.k.name, step), supervisor.Env+"=1"),
		Stdin:      stdinR,
		Stdout:     stdoutW,
		Stderr:     stderrW,
		ExtraFiles: []*os.File{lifeR, statusW}, // fds 3 and 4: supervisor.LifelineFD, StatusFD
		// Its own process group: a terminal's Ctrl-C reaches the worker,
		// which stops its steps, rather than killing the supervisors.
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("kernel %s, %s step: start supervisor: %w", r.k.name, step, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for _, f := range []*os.File{stdinR, stdoutW, stderrW, lifeR, statusW} {
		p.close(f) // the supervisor has its own copies
	}

	go writeAll(stdinW, stdin)
	overflow := make(chan struct{})
	var stdout, stderr []byte
	var status supervisorStatus
	var readers sync.WaitGroup
	readers.Go(func() { stdout = readLimited(stdoutR, MaxStdout, overflow) })
	readers.Go(func() { stderr = readTail(stderrR, StderrTail) })
	readers.Go(func() { status = readStatus(statusR) })

	stop := sync.OnceFunc(func() { p.close(lifeW) })
	var (
		waitErr    error
		overflowed bool
		deadline   <-chan time.Time
		done       = ctx.Done()
	)
wait:
	for {
		select {
		case waitErr = <-exited:
			break wait
		case <-done:
			done = nil
			stop()
			if deadline == nil {
				deadline = time.After(supervisorWait)
			}
		case <-overflow:
			overflow = nil
			overflowed = true
			stop()
			if deadline == nil {
				deadline = time.After(supervisorWait)
			}
		case <-deadline:
			_ = cmd.Process.Kill() // the step leader's Pdeathsig then kills it
			deadline = nil
		}
	}
	stop()
	if !waitTimeout(&readers, pipeWait) {
		p.close(stdoutR, stderrR, statusR) // unblocks the readers
		readers.Wait()
	}

	out := &stepOutput{stdout: stdout, stderr: stderr}
	fail := func(reason string) error {
		return &StepError{Kernel: r.k.name, Step: step, Reason: reason, Stderr: stderr}
	}
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("kernel %s, %s step stopped: %w", r.k.name, step, context.Cause(ctx))
	case overflowed:
		return nil, fail(fmt.Sprintf("wrote more than %d bytes (16 MiB) to stdout", MaxStdout))
	}
	kind, value, _ := strings.Cut(status.final, " ")
	switch kind {
	case "exit":
		out.status = "exited with status " + value
		if value != "0" {
			return nil, fail(out.status)
		}
		return out, nil
	case "signal":
		n, _ := strconv.Atoi(value)
		sig := syscall.Signal(n)
		return nil, fail(fmt.Sprintf("was killed by signal %s (%v)", unix.SignalName(sig), sig))
	case "error":
		return nil, fail(fmt.Sprintf("could not start %s: %s", r.argv[0], value))
	}
	return nil, fail(fmt.Sprintf("its supervisor ended without a status (%v)", waitErr))
}

// pipes owns the pipe ends of one step, closing each once.
type pipes struct {
	mu    sync.Mutex
	files []*os.File
	err   error
}

func (p *pipes) pipe() (*os.File, *os.File) {
	r, w, err := os.Pipe()
	if err != nil {
		p.err = errors.Join(p.err, err)
		return nil, nil
	}
	p.files = append(p.files, r, w)
	return r, w
}

func (p *pipes) close(fs ...*os.File) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range fs {
		for i, g := range p.files {
			if g == f {
				f.Close()
				p.files[i] = nil
			}
		}
	}
}

func (p *pipes) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.files {
		if f != nil {
			f.Close()
		}
	}
	p.files = nil
}

// readLimited reads r to EOF, keeping at most limit bytes; past that it
// closes overflow once and discards the rest.
func readLimited(r io.Reader, limit int, overflow chan<- struct{}) []byte {
	var buf bytes.Buffer
	n, _ := io.Copy(&buf, io.LimitReader(r, int64(limit)+1))
	if n > int64(limit) {
		close(overflow)
		_, _ = io.Copy(io.Discard, r)
		return nil
	}
	return buf.Bytes()
}

// readTail reads r to EOF, keeping its last n bytes, cut at the start of
// a UTF-8 sequence.
func readTail(r io.Reader, n int) []byte {
	t := &tail{max: n}
	_, _ = io.Copy(t, r)
	return t.bytes()
}

type tail struct {
	buf []byte
	max int
	cut bool
}

func (t *tail) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) >= t.max {
		t.buf = append(t.buf[:0], p[len(p)-t.max:]...)
		t.cut = true
		return n, nil
	}
	if over := len(t.buf) + len(p) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.cut = true
	}
	t.buf = append(t.buf, p...)
	return n, nil
}

func (t *tail) bytes() []byte {
	b := t.buf
	for i := 0; t.cut && i < 3 && len(b) > 0 && b[0]&0xC0 == 0x80; i++ {
		b = b[1:] // a continuation byte: the sequence started before the tail
	}
	return b
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}
