package redistest

import (
	"context"
	"errors"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

func TestMain(m *testing.M) { Main(m) }

// drillClient is a client for fault drills: it fails fast instead of retrying
// while the server is down.
func drillClient(t *testing.T, s *Server) *redis.Client {
	t.Helper()
	client := redis.NewClient(&redis.Options{
		Addr:        s.Addr,
		MaxRetries:  -1,
		DialTimeout: 500 * time.Millisecond,
		ReadTimeout: 2 * time.Second,
	})
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// alive reports whether the process with pid exists.
func alive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

func TestURLAndClient(t *testing.T) {
	t.Parallel()
	url := URL(t)
	require.Regexp(t, `^rediss?://`, url)
	require.Equal(t, url, URL(t), "URL is the same for every call")

	ctx := context.Background()
	client := Client(t)
	key := Namespace(t) + ":k"
	require.NoError(t, client.Set(ctx, key, "v", time.Minute).Err())
	got, err := client.Get(ctx, key).Result()
	require.NoError(t, err)
	require.Equal(t, "v", got)
}

func TestNamespace(t *testing.T) {
	t.Parallel()
	format := regexp.MustCompile(`^t[0-9a-f]{10}$`)
	const goroutines, each = 8, 500
	var mu sync.Mutex
	seen := make(map[string]bool, goroutines*each)
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range each {
				ns := Namespace(t)
				mu.Lock()
				seen[ns] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Len(t, seen, goroutines*each, "every namespace is unique")
	for ns := range seen {
		require.Regexp(t, format, ns)
	}
}

func TestServerStopStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := StartServer(t, ServerOptions{})
	require.Regexp(t, `^127\.0\.0\.1:\d+$`, s.Addr)
	require.Equal(t, "redis://"+s.Addr+"/0", s.URL)
	client := drillClient(t, s)
	require.NoError(t, client.Set(ctx, "k", "v", 0).Err())

	pid := s.proc.cmd.Process.Pid
	s.Stop()
	require.False(t, alive(pid), "redis-server %d still running after Stop", pid)
	require.Error(t, client.Ping(ctx).Err(), "a stopped server answers nothing")
	s.Stop() // stopping twice is a no-op

	s.Start()
	require.NoError(t, client.Ping(ctx).Err())
	require.ErrorIs(t, client.Get(ctx, "k").Err(), redis.Nil, "without AOF nothing survives a restart")
}

func TestServerKillWithAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := StartServer(t, ServerOptions{AppendOnly: true})
	client := drillClient(t, s)
	for i := range 100 {
		require.NoError(t, client.RPush(ctx, "list", i).Err())
	}

	pid := s.proc.cmd.Process.Pid
	s.Kill()
	require.False(t, alive(pid), "redis-server %d still running after Kill", pid)
	s.Kill() // killing twice is a no-op

	s.Start()
	n, err := client.LLen(ctx, "list").Result()
	require.NoError(t, err)
	require.EqualValues(t, 100, n, "appendfsync always keeps every acknowledged write across SIGKILL")

	s.Stop()
	s.Start()
	n, err = client.LLen(ctx, "list").Result()
	require.NoError(t, err)
	require.EqualValues(t, 100, n, "and across a graceful restart")
}

func TestServersAreIndependent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := StartServer(t, ServerOptions{}), StartServer(t, ServerOptions{})
	require.NotEqual(t, a.Addr, b.Addr)
	require.NoError(t, drillClient(t, a).Set(ctx, "k", "a", 0).Err())
	require.ErrorIs(t, drillClient(t, b).Get(ctx, "k").Err(), redis.Nil)
}

func TestStartRedisReportsPortInUse(t *testing.T) {
	t.Parallel()
	s := StartServer(t, ServerOptions{})
	_, err := startRedis(t.TempDir(), s.port, ServerOptions{})
	require.ErrorIs(t, err, errAddrInUse)
}

func TestURLWithoutMain(t *testing.T) {
	// Not parallel: it flips the package state that every other test reads.
	shared.mainCalled.Store(false)
	defer shared.mainCalled.Store(true)
	_, err := sharedURL()
	require.True(t, errors.Is(err, errNoMain), "got %v", err)
}
