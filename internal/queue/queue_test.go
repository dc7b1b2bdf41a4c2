package queue_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/queue"
	"github.com/crunchjobs/crunch/internal/redisconn"
	"github.com/crunchjobs/crunch/internal/redistest"
	"github.com/crunchjobs/crunch/tasks"
)

func TestMain(m *testing.M) { redistest.Main(m) }

func TestOneShardKeepsTheQueueNames(t *testing.T) {
	t.Parallel()
	n := queue.NamesFor("crunch")
	require.Equal(t, 1, n.Shards())
	require.Equal(t, []string{"crunch:high", "crunch:normal", "crunch:low"}, []string{n.High, n.Normal, n.Low})
	require.Equal(t, map[string]int{"crunch:high": 6, "crunch:normal": 3, "crunch:low": 1}, n.ChunkWeights())
	for i := range 5 {
		require.Equal(t, "crunch:normal", n.ForChunk(queue.PriorityNormal, i))
		require.Equal(t, "crunch:normal", n.ForChunk("", i), "no priority is normal")
	}
	require.Equal(t, "crunch:control", n.Control)
	require.Equal(t, "crunch:webhooks", n.Webhooks)

	lit := queue.Names{High: "h", Normal: "n", Low: "l"}
	require.Equal(t, map[string]int{"h": 6, "n": 3, "l": 1}, lit.ChunkWeights(), "a Names literal has one shard")
	require.Equal(t, "l", lit.ForChunk(queue.PriorityLow, 7))
}

func TestShardNames(t *testing.T) {
	t.Parallel()
	for _, shards := range []int{2, 3, 4, 6, 12, queue.MaxShards} {
		t.Run(fmt.Sprint(shards), func(t *testing.T) {
			t.Parallel()
			names := queue.ShardNames("crunch:normal", shards)
			require.Len(t, names, shards)
			require.Equal(t, names, queue.ShardNames("crunch:normal", shards), "deterministic")
			width := redisconn.ClusterSlots / shards
			seen := map[string]bool{}
			for i, name := range names {
				require.False(t, seen[name])
				seen[name] = true
				require.Regexp(t, fmt.Sprintf(`^crunch:normal:%d(\.\d+)?$`, i), name)
				lo := i*redisconn.ClusterSlots/shards + width/4
				slot := queue.Slot(name)
				require.GreaterOrEqual(t, slot, lo, name)
				require.Less(t, slot, lo+width/2, name)
			}
		})
	}
	require.Equal(t, []string{"x"}, queue.ShardNames("x", 0), "at least one shard")
	require.Len(t, queue.ShardNames("x", 1000), queue.MaxShards)
}

func TestShardedWeightsKeepSixThreeOne(t *testing.T) {
	t.Parallel()
	n := queue.ShardedNamesFor("crunch", 6)
	require.Equal(t, 6, n.Shards())
	total := map[int]int{}
	for _, w := range n.ChunkWeights() {
		total[w]++
	}
	require.Equal(t, map[int]int{6: 6, 3: 6, 1: 6}, total, "every shard of a priority has its weight")
	require.Equal(t, n.ChunkQueues(queue.PriorityNormal)[0], n.Normal)
	for i := range 13 {
		require.Equal(t, n.ChunkQueues(queue.PriorityHigh)[i%6], n.ForChunk(queue.PriorityHigh, i), "round-robin by index")
	}
}

// On a single Redis, chunk i of a job goes to shard i mod S, and the
// default is one shard.
func TestEnqueuerSpreadsChunksOverShards(t *testing.T) {
	t.Parallel()
	rdb := redistest.Client(t)
	require.Equal(t, 1, queue.DefaultShards(rdb))
	ns := redistest.Namespace(t)
	e := queue.NewShardedEnqueuer(rdb, ns, 3)
	ctx := t.Context()
	for i := range 7 {
		require.NoError(t, e.Chunk(ctx, tasks.ChunkPayload{JobID: "job_a", Index: i}, queue.PriorityLow, 1, time.Now().Add(time.Hour)))
	}
	require.NoError(t, e.HandBack(ctx, tasks.ChunkPayload{JobID: "job_a", Index: 4}, 1, time.Now().Add(time.Hour), 1))
	insp := asynq.NewInspectorFromRedisClient(rdb)
	for s, q := range e.Names().ChunkQueues(queue.PriorityLow) {
		tasks := pendingIndexes(t, insp, q)
		var want []int
		for i := s; i < 7; i += 3 {
			want = append(want, i)
		}
		require.ElementsMatch(t, want, tasks, "shard %d (%s)", s, q)
	}
	require.Equal(t, []int{4}, pendingIndexes(t, insp, e.Names().ChunkQueues(queue.PriorityHigh)[1]), "a handed-back chunk keeps its shard, in high")
}

func pendingIndexes(t *testing.T, insp *asynq.Inspector, q string) []int {
	t.Helper()
	list, err := insp.ListPendingTasks(q)
	require.NoError(t, err)
	var out []int
	for _, task := range list {
		var p tasks.ChunkPayload
		require.NoError(t, json.Unmarshal(task.Payload, &p))
		out = append(out, p.Index)
	}
	return out
}

// On a real 3-master Cluster the slots the package computes are Redis's,
// and the default shards sit two on each master.
func TestShardsOnARealCluster(t *testing.T) {
	t.Parallel()
	cl := redistest.StartCluster(t, redistest.ClusterOptions{})
	rdb, err := redisconn.Open(cl.URL)
	require.NoError(t, err)
	defer rdb.Close()
	require.Equal(t, queue.ClusterShardsDefault, queue.DefaultShards(rdb))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	slots, err := rdb.ClusterSlots(ctx).Result()
	require.NoError(t, err)
	owner := func(slot int) string {
		for _, r := range slots {
			if slot >= r.Start && slot <= r.End {
				return r.Nodes[0].Addr
			}
		}
		return ""
	}
	n := queue.ShardedNamesFor("crunch", queue.DefaultShards(rdb))
	for _, p := range []string{queue.PriorityHigh, queue.PriorityNormal, queue.PriorityLow} {
		perMaster := map[string]int{}
		for _, q := range n.ChunkQueues(p) {
			key := "asynq:{" + q + "}:pending"
			got, err := rdb.ClusterKeySlot(ctx, key).Result()
			require.NoError(t, err)
			require.EqualValues(t, queue.Slot(q), got, "CLUSTER KEYSLOT %s", key)
			require.EqualValues(t, redisconn.KeySlot(key), got)
			perMaster[owner(int(got))]++
		}
		require.Len(t, perMaster, 3, "%s shards: %v", p, perMaster)
		for m, k := range perMaster {
			_, _, err := net.SplitHostPort(m)
			require.NoError(t, err)
			require.Equal(t, 2, k, "%s shards on %s", p, m)
		}
	}
}
