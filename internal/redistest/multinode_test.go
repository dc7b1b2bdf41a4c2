package redistest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

func TestStartSentinelFailsOverWhenTheMasterIsKilled(t *testing.T) {
	t.Parallel()
	s := StartSentinel(t, SentinelOptions{Password: "sentinel-test-pw"})
	require.Len(t, s.Nodes, 3)
	require.Len(t, s.SentinelAddrs, 3)
	require.True(t, strings.HasPrefix(s.URL, "redis-sentinel://:sentinel-test-pw@127.0.0.1:"), s.URL)
	require.True(t, strings.HasSuffix(s.URL, "?master="+SentinelMasterName), s.URL)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	master, err := s.Master(ctx)
	require.NoError(t, err)
	require.Equal(t, s.Nodes[0], master, "the first node starts as the master")

	rdb := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName: SentinelMasterName, SentinelAddrs: s.SentinelAddrs, Password: "sentinel-test-pw",
	})
	defer rdb.Close()
	require.NoError(t, rdb.Set(ctx, "k", "v", 0).Err())
	n, err := rdb.Wait(ctx, 2, 5*time.Second).Result()
	require.NoError(t, err)
	require.EqualValues(t, 2, n)

	master.Kill()
	addr, err := s.WaitNewMaster(ctx, master.Addr)
	require.NoError(t, err)
	require.NotEqual(t, master.Addr, addr)
	require.Eventually(t, func() bool {
		v, err := rdb.Get(ctx, "k").Result()
		return err == nil && v == "v"
	}, 20*time.Second, 50*time.Millisecond, "the failover client follows the new master, which has the write")
	require.NoError(t, rdb.Set(ctx, "k2", "v2", 0).Err(), "the new master takes writes")
}

func TestStartClusterSplitsTheSlots(t *testing.T) {
	t.Parallel()
	c := StartCluster(t, ClusterOptions{Password: "cluster-test-pw"})
	require.Len(t, c.Nodes, 3)
	require.True(t, strings.HasPrefix(c.URL, "redis-cluster://:cluster-test-pw@127.0.0.1:"), c.URL)

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{c.Nodes[0].Addr}, Password: "cluster-test-pw"})
	defer rdb.Close()
	slots, err := rdb.ClusterSlots(ctx).Result()
	require.NoError(t, err)
	require.Len(t, slots, 3)
	owners := map[string]bool{}
	covered := 0
	for _, s := range slots {
		covered += s.End - s.Start + 1
		owners[s.Nodes[0].Addr] = true
	}
	require.Equal(t, 16384, covered)
	require.Len(t, owners, 3, "each master owns a range")

	for i := range 30 {
		require.NoError(t, rdb.Set(ctx, fmt.Sprintf("key%d", i), i, 0).Err())
	}
	for _, n := range c.Nodes {
		m := redis.NewClient(&redis.Options{Addr: n.Addr, Password: "cluster-test-pw"})
		size, err := m.DBSize(ctx).Result()
		_ = m.Close()
		require.NoError(t, err)
		require.Positive(t, size, "master %s holds some of the 30 keys", n.Addr)
	}
}
