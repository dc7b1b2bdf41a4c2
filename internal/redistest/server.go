package redistest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// redisServerBin is looked up on PATH.
	redisServerBin = "redis-server"
	// startTimeout bounds the wait for a started server to answer PING
	// (loading a large append-only file included).
	startTimeout = 15 * time.Second
	// stopTimeout bounds a graceful stop before SIGKILL.
	stopTimeout = 10 * time.Second
	// Free ports are drawn from [portMin, portMax), below Linux's ephemeral
	// range (32768–60999), so that no outgoing connection takes the port of a
	// stopped server before it is restarted.
	portMin, portMax = 15000, 32000
	// portAttempts is how many ports startOnFreePort tries.
	portAttempts = 20
)

var (
	errAddrInUse  = errors.New("address already in use")
	errNotRunning = errors.New("redis-server is not running")
)

// ServerOptions configures a server started by [StartServer].
type ServerOptions struct {
	// AppendOnly turns on the append-only file with appendfsync always, so
	// every acknowledged write survives [Server.Kill]. Defaults to false:
	// nothing is kept on disk and a restart starts empty.
	AppendOnly bool
	// Password, when set, is required of clients (requirepass) and given to
	// a master this server replicates (masterauth). Defaults to none.
	Password string
	// Args are more redis-server arguments, such as "--replicaof", "127.0.0.1",
	// "6379" or "--cluster-enabled", "yes". Defaults to none.
	Args []string
}

// Server is a dedicated redis-server process of one test, for fault drills
// (stop, kill, restart). Start, which fails the test like t.Fatal, must be
// called from the goroutine running the test; Stop and Kill from any.
type Server struct {
	// Addr is the server's "127.0.0.1:port"; it stays the same across restarts.
	Addr string
	// URL is "redis://Addr/0".
	URL string

	t    testing.TB
	dir  string
	port int
	opts ServerOptions

	mu   sync.Mutex
	proc *process // nil while stopped
}

// StartServer starts a redis-server for t on a free loopback port, with its
// data directory in t.TempDir(), and waits until it answers PING. The server is
// killed when the test ends, and its log is shown if the test failed.
func StartServer(t testing.TB, opts ServerOptions) *Server {
	t.Helper()
	if _, err := exec.LookPath(redisServerBin); err != nil {
		t.Fatal(ErrNoRedis)
	}
	dir := t.TempDir()
	proc, port, err := startOnFreePort(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{
		Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		t:    t,
		dir:  dir,
		port: port,
		opts: opts,
		proc: proc,
	}
	s.URL = "redis://" + s.Addr + "/0"
	if opts.Password != "" {
		s.URL = "redis://:" + opts.Password + "@" + s.Addr + "/0"
	}
	t.Cleanup(func() {
		s.Kill()
		if t.Failed() {
			t.Logf("redistest: log of redis-server %s:\n%s", s.Addr, tail(filepath.Join(dir, logName), 30))
		}
	})
	return s
}

// Start starts the server again on the same port with the same data directory
// and waits until it answers PING (after loading the append-only file, if any).
// It fails the test if the server is running.
func (s *Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		s.t.Fatalf("redistest: Start: redis-server %s is already running", s.Addr)
	}
	proc, err := startRedis(s.dir, s.port, s.opts)
	if err != nil {
		s.t.Fatalf("redistest: restarting redis-server on %s: %v", s.Addr, err)
	}
	s.proc = proc
}

// Stop shuts the server down gracefully (SIGTERM: it flushes the append-only
// file and closes its clients) and waits for it to exit; SIGKILL after 10 s.
// Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	err := s.proc.stop(stopTimeout)
	s.proc = nil
	if err != nil {
		s.t.Errorf("redistest: stopping redis-server %s: %v", s.Addr, err)
	}
}

// Kill kills the server with SIGKILL, as a crash would, and waits for it to
// exit. Killing a stopped server does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	s.proc.kill()
	s.proc = nil
}

// logName is the redis-server log file in the data directory.
const logName = "redis.log"

// process is one running redis-server.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and was reaped
	err  error         // from cmd.Wait, set before done is closed
}

// startOnFreePort starts a redis-server on a free port in dir, trying other
// ports when another process takes the chosen one first.
func startOnFreePort(dir string, opts ServerOptions) (*process, int, error) {
	var err error
	for range portAttempts {
		port := rand.IntN(portMax-portMin) + portMin
		if !portFree(port) {
			continue
		}
		var proc *process
		proc, err = startRedis(dir, port, opts)
		if err == nil {
			return proc, port, nil
		}
		if !errors.Is(err, errAddrInUse) {
			return nil, 0, err
		}
	}
	return nil, 0, fmt.Errorf("redistest: no free port for redis-server after %d attempts (last error: %v)", portAttempts, err)
}

// portFree reports whether a listener can be bound to 127.0.0.1:port.
func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// startRedis starts redis-server on 127.0.0.1:port with its data in dir, and
// waits until it answers PING. An error wraps errAddrInUse when the port was
// taken.
func startRedis(dir string, port int, opts ServerOptions) (*process, error) {
	args := []string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--dir", dir,
		"--daemonize", "no",
		"--save", "",
		"--logfile", "", // stdout, which is the log file below
	}
	if opts.AppendOnly {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	if opts.Password != "" {
		args = append(args, "--requirepass", opts.Password, "--masterauth", opts.Password)
	}
	args = append(args, opts.Args...)
	return startProcess(redisServerBin, args, dir, port, opts.Password)
}

// startProcess starts bin with args in dir, its output appended to the log
// file there, and waits until it answers PING on 127.0.0.1:port (after AUTH
// password, if any). An error wraps errAddrInUse when the port was taken.
func startProcess(bin string, args []string, dir string, port int, password string) (*process, error) {
	logPath := filepath.Join(dir, logName)
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	defer logFile.Close() // the child keeps its own descriptor

	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := spawn(cmd); err != nil {
		return nil, fmt.Errorf("redistest: starting %s: %w", bin, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := waitServer(addr, password, cmd.Process.Pid, p.done, startTimeout); err != nil {
		p.kill()
		log := tail(logPath, 20)
		if strings.Contains(log, "Address already in use") {
			return nil, fmt.Errorf("redistest: %s on %s: %w", bin, addr, errAddrInUse)
		}
		return nil, fmt.Errorf("redistest: %s on %s did not start: %w\n%s", bin, addr, err, log)
	}
	return p, nil
}

// stop sends SIGTERM and waits for the exit, then SIGKILL after timeout.
func (p *process) stop(timeout time.Duration) error {
	select {
	case <-p.done:
		return errNotRunning
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(timeout):
		p.kill()
		return fmt.Errorf("did not exit within %s of SIGTERM; killed", timeout)
	}
}

// kill kills the process and its process group with SIGKILL and waits for it.
func (p *process) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	// The process has not been reaped, so its pid (and group id) cannot have
	// been reused.
	killGroup(p.cmd.Process)
	<-p.done
}

// waitServer waits until the redis-server with the given pid answers at addr
// (not with LOADING), until timeout, or until exited is closed. Checking the
// pid matters: another server may answer on a port that ours failed to bind.
func waitServer(addr, password string, pid int, exited <-chan struct{}, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var err error
	for {
		var got int
		if got, err = serverPID(ctx, addr, password); err == nil {
			if got == pid {
				return nil
			}
			err = fmt.Errorf("%s is served by another redis-server (pid %d)", addr, got)
		}
		select {
		case <-exited:
			return fmt.Errorf("redis-server exited (last attempt: %w)", err)
		case <-ctx.Done():
			return fmt.Errorf("no answer within %s: %w", timeout, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// serverPID asks the Redis at addr for its process id (INFO server) and then
// checks that it is ready (PING answers PONG, not LOADING), over a fresh
// connection, after AUTH password when there is one. It does not use go-redis
// so that a server that is still starting leaves no reconnecting goroutines.
func serverPID(ctx context.Context, addr, password string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	req := "INFO server\r\nPING\r\n"
	if password != "" {
		req = fmt.Sprintf("*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n", len(password), password) + req
	}
	if _, err := conn.Write([]byte(req)); err != nil {
		return 0, err
	}
	r := bufio.NewReader(conn)
	if password != "" {
		ok, err := r.ReadString('\n')
		if err != nil {
			return 0, err
		}
		if ok = strings.TrimSpace(ok); ok != "+OK" {
			return 0, fmt.Errorf("AUTH answered %q", ok)
		}
	}

	header, err := r.ReadString('\n')
	if err != nil {
		return 0, err
	}
	header = strings.TrimSpace(header)
	size, err := strconv.Atoi(strings.TrimPrefix(header, "$"))
	if !strings.HasPrefix(header, "$") || err != nil || size < 0 || size > 1<<20 {
		return 0, fmt.Errorf("INFO answered %q", header)
	}
	info := make([]byte, size+2) // and CRLF
	if _, err := io.ReadFull(r, info); err != nil {
		return 0, err
	}
	pid := -1
	for line := range strings.Lines(string(info)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			if pid, err = strconv.Atoi(v); err != nil {
				return 0, fmt.Errorf("INFO server: process_id:%s", v)
			}
		}
	}
	if pid < 0 {
		return 0, errors.New("INFO server has no process_id")
	}

	pong, err := r.ReadString('\n')
	if err != nil {
		return 0, err
	}
	if pong = strings.TrimSpace(pong); pong != "+PONG" {
		return 0, fmt.Errorf("PING answered %q", pong)
	}
	return pid, nil
}

// tail returns the last n lines of the file at path, or why it cannot.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// The spawner starts every redis-server from one goroutine locked to its OS
// thread. On Linux the parent-death signal is sent when the *thread* that
// started a child exits, not the process (golang/go#27505), and Go ends a
// thread when a goroutine exits while locked to it; a dedicated, locked
// thread lives until stopSpawner, after every server has been stopped.
var spawner struct {
	mu   sync.Mutex
	reqs chan spawnReq // nil while not running
	done chan struct{}
}

type spawnReq struct {
	cmd *exec.Cmd
	err chan<- error
}

// spawn starts cmd from the spawner's thread.
func spawn(cmd *exec.Cmd) error {
	spawner.mu.Lock()
	defer spawner.mu.Unlock()
	if spawner.reqs == nil {
		reqs, done := make(chan spawnReq), make(chan struct{})
		spawner.reqs, spawner.done = reqs, done
		go func() {
			defer close(done)
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for req := range reqs {
				req.err <- req.cmd.Start()
			}
		}()
	}
	errc := make(chan error, 1)
	spawner.reqs <- spawnReq{cmd: cmd, err: errc}
	return <-errc
}

// stopSpawner ends the spawner goroutine; a later spawn starts a new one.
func stopSpawner() {
	spawner.mu.Lock()
	defer spawner.mu.Unlock()
	if spawner.reqs == nil {
		return
	}
	close(spawner.reqs)
	<-spawner.done
	spawner.reqs, spawner.done = nil, nil
}
