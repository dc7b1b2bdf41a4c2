package redistest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sentinel and Cluster setups: several redis-server processes (and
// redis-sentinel ones) on free loopback ports, started for one test and
// killed when it ends, so that tests can run crunch on a Redis with
// failover or on a Redis Cluster and break them on purpose.

const (
	// redisSentinelBin is Debian's redis-sentinel; without it sentinels run
	// as redis-server --sentinel (the same program).
	redisSentinelBin = "redis-sentinel"
	// setupTimeout bounds the wait for a Sentinel or Cluster setup to settle
	// (sentinels discovering each other and the replicas, slots agreed).
	setupTimeout = 30 * time.Second
	// SentinelMasterName is the name the sentinels of [StartSentinel] monitor.
	SentinelMasterName = "crunchmaster"
)

// SentinelOptions configures [StartSentinel].
type SentinelOptions struct {
	// Replicas is the number of replicas of the master. Defaults to 2.
	Replicas int
	// Sentinels is the number of sentinels, whose quorum is a majority.
	// Defaults to 3.
	Sentinels int
	// Password is the data nodes' password (the sentinels have none).
	// Defaults to none.
	Password string
	// DownAfter is how long the master must not answer before the sentinels
	// fail over (down-after-milliseconds). Defaults to 1s.
	DownAfter time.Duration
	// AppendOnly gives the data nodes an append-only file fsynced on every
	// write. Defaults to false.
	AppendOnly bool
}

// Sentinel is a master, its replicas and the sentinels watching them.
type Sentinel struct {
	// URL is "redis-sentinel://[:password@]s1,s2,s3?master=crunchmaster".
	URL string
	// Nodes are the data nodes; Nodes[0] was the master at the start.
	Nodes []*Server
	// SentinelAddrs are the sentinels' "127.0.0.1:port".
	SentinelAddrs []string

	t         testing.TB
	sentinels []*daemon
}

// daemon is a process that a test only ever kills (a sentinel).
type daemon struct {
	addr string
	dir  string
	mu   sync.Mutex
	proc *process
}

func (d *daemon) kill() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc != nil {
		d.proc.kill()
		d.proc = nil
	}
}

// StartSentinel starts a master with opts.Replicas replicas and
// opts.Sentinels sentinels on free loopback ports, and waits until every
// sentinel knows every replica and every other sentinel, so that a
// failover can happen at once. Everything is killed when the test ends.
func StartSentinel(t testing.TB, opts SentinelOptions) *Sentinel {
	t.Helper()
	if opts.Replicas == 0 {
		opts.Replicas = 2
	}
	if opts.Sentinels == 0 {
		opts.Sentinels = 3
	}
	if opts.DownAfter == 0 {
		opts.DownAfter = time.Second
	}
	sopts := ServerOptions{Password: opts.Password, AppendOnly: opts.AppendOnly}
	master := StartServer(t, sopts)
	s := &Sentinel{t: t, Nodes: []*Server{master}}
	_, masterPort, _ := net.SplitHostPort(master.Addr)
	for range opts.Replicas {
		ro := sopts
		ro.Args = []string{"--replicaof", "127.0.0.1", masterPort}
		s.Nodes = append(s.Nodes, StartServer(t, ro))
	}
	quorum := opts.Sentinels/2 + 1
	for range opts.Sentinels {
		d := startSentinel(t, master.Addr, opts.Password, quorum, opts.DownAfter)
		s.sentinels = append(s.sentinels, d)
		s.SentinelAddrs = append(s.SentinelAddrs, d.addr)
	}
	auth := ""
	if opts.Password != "" {
		auth = ":" + opts.Password + "@"
	}
	s.URL = "redis-sentinel://" + auth + strings.Join(s.SentinelAddrs, ",") + "?master=" + SentinelMasterName

	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if err := s.waitSettled(ctx, opts.Replicas, opts.Sentinels); err != nil {
		t.Fatalf("redistest: Sentinel setup did not settle: %v", err)
	}
	return s
}

// startSentinel starts one sentinel monitoring the master at masterAddr.
func startSentinel(t testing.TB, masterAddr, password string, quorum int, downAfter time.Duration) *daemon {
	t.Helper()
	dir := t.TempDir()
	host, port, _ := net.SplitHostPort(masterAddr)
	bin, args := redisSentinelBin, []string(nil)
	if _, err := exec.LookPath(redisSentinelBin); err != nil {
		bin, args = redisServerBin, []string{"--sentinel"}
	}
	conf := filepath.Join(dir, "sentinel.conf")
	proc, p, err := onFreePort(func(p int) (*process, error) {
		lines := []string{
			"port " + strconv.Itoa(p),
			"bind 127.0.0.1",
			"daemonize no",
			"dir " + dir,
			`logfile ""`,
			fmt.Sprintf("sentinel monitor %s %s %s %d", SentinelMasterName, host, port, quorum),
			fmt.Sprintf("sentinel down-after-milliseconds %s %d", SentinelMasterName, downAfter.Milliseconds()),
			fmt.Sprintf("sentinel failover-timeout %s %d", SentinelMasterName, (10 * downAfter).Milliseconds()),
			fmt.Sprintf("sentinel parallel-syncs %s 2", SentinelMasterName),
		}
		if password != "" {
			lines = append(lines, fmt.Sprintf("sentinel auth-pass %s %s", SentinelMasterName, password))
		}
		if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			return nil, fmt.Errorf("redistest: %w", err)
		}
		return startProcess(bin, append([]string{conf}, args...), dir, p, "")
	})
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(p)), dir: dir, proc: proc}
	t.Cleanup(func() {
		d.kill()
		if t.Failed() {
			t.Logf("redistest: log of sentinel %s:\n%s", d.addr, tail(filepath.Join(dir, logName), 30))
		}
	})
	return d
}

// onFreePort runs start on free ports until one is not taken first by
// another process.
func onFreePort(start func(port int) (*process, error)) (*process, int, error) {
	var err error
	for range portAttempts {
		port := rand.IntN(portMax-portMin) + portMin
		if !portFree(port) {
			continue
		}
		var proc *process
		if proc, err = start(port); err == nil {
			return proc, port, nil
		}
		if !errors.Is(err, errAddrInUse) {
			return nil, 0, err
		}
	}
	return nil, 0, fmt.Errorf("redistest: no free port after %d attempts (last error: %v)", portAttempts, err)
}

// sentinelClient returns a client of the sentinel at addr; the caller
// closes it.
func sentinelClient(addr string) *redis.SentinelClient {
	return redis.NewSentinelClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: time.Second})
}

// waitSettled waits until every sentinel sees the replicas and the other
// sentinels, and every replica is in sync.
func (s *Sentinel) waitSettled(ctx context.Context, replicas, sentinels int) error {
	var last error
	for {
		last = s.settled(ctx, replicas, sentinels)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *Sentinel) settled(ctx context.Context, replicas, sentinels int) error {
	for _, addr := range s.SentinelAddrs {
		sc := sentinelClient(addr)
		m, err := sc.Master(ctx, SentinelMasterName).Result()
		_ = sc.Close()
		if err != nil {
			return fmt.Errorf("sentinel %s: %w", addr, err)
		}
		if m["num-slaves"] != strconv.Itoa(replicas) || m["num-other-sentinels"] != strconv.Itoa(sentinels-1) {
			return fmt.Errorf("sentinel %s sees %s replicas and %s other sentinels", addr, m["num-slaves"], m["num-other-sentinels"])
		}
	}
	master, err := s.MasterAddr(ctx)
	if err != nil {
		return err
	}
	c := s.client(master)
	defer c.Close()
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return err
	}
	if n := strings.Count(info, "state=online"); n != replicas {
		return fmt.Errorf("master %s has %d replicas online", master, n)
	}
	return nil
}

// client returns a client of the data node at addr; the caller closes it.
func (s *Sentinel) client(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: addr, Password: s.Nodes[0].opts.Password, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: 2 * time.Second})
}

// MasterAddr asks the sentinels, in turn, where the master is.
func (s *Sentinel) MasterAddr(ctx context.Context) (string, error) {
	var errs []error
	for _, addr := range s.SentinelAddrs {
		sc := sentinelClient(addr)
		hp, err := sc.GetMasterAddrByName(ctx, SentinelMasterName).Result()
		_ = sc.Close()
		if err == nil && len(hp) == 2 {
			return net.JoinHostPort(hp[0], hp[1]), nil
		}
		errs = append(errs, fmt.Errorf("sentinel %s: %v", addr, err))
	}
	return "", errors.Join(errs...)
}

// Master returns the data node that the sentinels name the master.
func (s *Sentinel) Master(ctx context.Context) (*Server, error) {
	addr, err := s.MasterAddr(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range s.Nodes {
		if n.Addr == addr {
			return n, nil
		}
	}
	return nil, fmt.Errorf("the sentinels name %s the master, which is none of the nodes", addr)
}

// Failover asks a sentinel to fail over now (SENTINEL FAILOVER), as an
// operator would before maintenance.
func (s *Sentinel) Failover(ctx context.Context) error {
	sc := sentinelClient(s.SentinelAddrs[0])
	defer sc.Close()
	return sc.Failover(ctx, SentinelMasterName).Err()
}

// WaitNewMaster waits until every sentinel names a master other than old
// and that node answers as a master (ROLE), and returns its address.
func (s *Sentinel) WaitNewMaster(ctx context.Context, old string) (string, error) {
	var last error
	for {
		addr, err := s.agreedMaster(ctx)
		switch {
		case err != nil:
			last = err
		case addr == old:
			last = fmt.Errorf("the sentinels still name %s", old)
		default:
			c := s.client(addr)
			role, err := c.Do(ctx, "ROLE").Slice()
			_ = c.Close()
			if err == nil && len(role) > 0 && role[0] == "master" {
				return addr, nil
			}
			last = fmt.Errorf("%s is not a master yet (ROLE: %v, %v)", addr, role, err)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no new master: %w (last: %v)", ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// agreedMaster is the master every live sentinel names.
func (s *Sentinel) agreedMaster(ctx context.Context) (string, error) {
	seen := ""
	for _, addr := range s.SentinelAddrs {
		sc := sentinelClient(addr)
		hp, err := sc.GetMasterAddrByName(ctx, SentinelMasterName).Result()
		_ = sc.Close()
		if err != nil || len(hp) != 2 {
			return "", fmt.Errorf("sentinel %s: %v", addr, err)
		}
		a := net.JoinHostPort(hp[0], hp[1])
		if seen != "" && a != seen {
			return "", fmt.Errorf("sentinels disagree: %s and %s", seen, a)
		}
		seen = a
	}
	return seen, nil
}

// ClusterOptions configures [StartCluster].
type ClusterOptions struct {
	// Masters is the number of master nodes; the hash slots are split
	// between them in equal ranges, as redis-cli --cluster create does.
	// Defaults to 3.
	Masters int
	// Password is the nodes' password. Defaults to none.
	Password string
}

// Cluster is a Redis Cluster of masters without replicas.
type Cluster struct {
	// URL is "redis-cluster://[:password@]n1,n2,n3".
	URL string
	// Nodes are the masters; Nodes[i] owns the i-th slot range.
	Nodes []*Server
}

// StartCluster starts a Redis Cluster of opts.Masters masters on free
// loopback ports, assigns the slots (CLUSTER ADDSLOTSRANGE), joins the
// nodes (CLUSTER MEET) and waits until every node reports the cluster ok
// and knows every other. Everything is killed when the test ends.
func StartCluster(t testing.TB, opts ClusterOptions) *Cluster {
	t.Helper()
	if opts.Masters == 0 {
		opts.Masters = 3
	}
	c := &Cluster{}
	var addrs []string
	for range opts.Masters {
		n := StartServer(t, ServerOptions{Password: opts.Password, Args: []string{
			"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "2000",
			"--cluster-require-full-coverage", "yes",
		}})
		c.Nodes = append(c.Nodes, n)
		addrs = append(addrs, n.Addr)
	}
	auth := ""
	if opts.Password != "" {
		auth = ":" + opts.Password + "@"
	}
	c.URL = "redis-cluster://" + auth + strings.Join(addrs, ",")

	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if err := c.form(ctx, opts.Password); err != nil {
		t.Fatalf("redistest: forming the cluster: %v", err)
	}
	return c
}

func (c *Cluster) form(ctx context.Context, password string) error {
	clients := make([]*redis.Client, len(c.Nodes))
	for i, n := range c.Nodes {
		clients[i] = redis.NewClient(&redis.Options{Addr: n.Addr, Password: password, MaxRetries: -1})
		defer clients[i].Close()
	}
	m := len(c.Nodes)
	for i, cl := range clients {
		lo, hi := i*16384/m, (i+1)*16384/m-1
		if err := cl.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err(); err != nil {
			return fmt.Errorf("%s: CLUSTER ADDSLOTSRANGE %d %d: %w", c.Nodes[i].Addr, lo, hi, err)
		}
	}
	for _, n := range c.Nodes[1:] {
		host, port, _ := net.SplitHostPort(n.Addr)
		if err := clients[0].ClusterMeet(ctx, host, port).Err(); err != nil {
			return fmt.Errorf("CLUSTER MEET %s: %w", n.Addr, err)
		}
	}
	var last error
	for {
		last = nil
		for i, cl := range clients {
			info, err := cl.ClusterInfo(ctx).Result()
			if err != nil {
				last = err
				break
			}
			if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(m)+"\r") {
				last = fmt.Errorf("%s is not ready: %s", c.Nodes[i].Addr, strings.Join(strings.Fields(info)[:6], " "))
				break
			}
		}
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Pause stops the server with SIGSTOP: it keeps its connections but answers
// nothing, as a server stuck on a slow disk or a long fork would; a paused
// replica acknowledges no writes. Resume continues it. Pausing a stopped
// server does nothing.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a server paused by [Server.Pause].
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		_ = s.proc.cmd.Process.Signal(sig)
	}
}
