package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// freePort returns a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// process is a child process of the bench.
type process struct {
	name string
	cmd  *exec.Cmd
	done chan error
}

// start runs argv with env added to a minimal environment; its output goes
// to a log file in dir.
func start(dir, name string, env []string, argv ...string) (*process, error) {
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); logf.Close() }()
	return p, nil
}

// stop ends p with SIGTERM, then SIGKILL after 10 s.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// peakRSS is the process's peak resident set (VmHWM), in bytes.
func (p *process) peakRSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// waitHTTP waits until something accepts connections on addr.
func waitHTTP(ctx context.Context, addr string, p *process) error {
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-p.done:
			return fmt.Errorf("%s exited before listening: %v", p.name, err)
		case <-ctx.Done():
			return fmt.Errorf("%s did not listen on %s: %w", p.name, addr, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// startRedis starts a private redis-server that keeps nothing on disk.
func startRedis(ctx context.Context, dir string) (*process, *redis.Client, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, nil, "", err
	}
	p, err := start(dir, "redis", nil, "redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir)
	if err != nil {
		return nil, nil, "", fmt.Errorf("%w (is redis-server installed? make bench installs it)", err)
	}
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	if err := waitHTTP(ctx, fmt.Sprintf("127.0.0.1:%d", port), p); err != nil {
		return nil, nil, "", err
	}
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), PoolSize: 64})
	return p, rdb, url, nil
}

// build compiles the api and worker binaries of this checkout into dir.
func build(dir string) error {
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./api", "./worker")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	return nil
}

// redisStats are counters read from INFO.
type redisStats struct {
	calls   int64 // commands processed
	netIn   int64 // bytes received
	netOut  int64 // bytes sent
	memory  int64 // used_memory
	clients int64 // connected_clients
}

func readStats(ctx context.Context, rdb *redis.Client) (redisStats, error) {
	info, err := rdb.Info(ctx, "stats", "memory", "clients").Result()
	if err != nil {
		return redisStats{}, err
	}
	var s redisStats
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "total_commands_processed":
			s.calls = n
		case "total_net_input_bytes":
			s.netIn = n
		case "total_net_output_bytes":
			s.netOut = n
		case "used_memory":
			s.memory = n
		case "connected_clients":
			s.clients = n
		}
	}
	// INFO itself counts as a command; leave it out.
	s.calls--
	return s, nil
}

// logLine reads the JSON log lines of a process log for one whose msg has
// suffix, returning its addr field (the listening address).
func logAddr(path, suffix string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && strings.HasSuffix(line.Msg, suffix) {
			return line.Addr
		}
	}
	return ""
}
