package queue

import (
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/crunchjobs/crunch/internal/redisconn"
)

// Chunk shards.
//
// asynq keeps every key of a queue in one Redis Cluster hash slot
// ("asynq:{queue}:…"), so one queue lives on one master whatever the size
// of the cluster. crunch therefore spreads the chunks of each priority over
// several queues, its shards, whose names are chosen so that their slots
// spread evenly over the slot space: shard i of S hashes into the middle
// half of the i-th of S equal slot ranges. A cluster whose M masters own
// equal ranges (what redis-cli --cluster create makes) then serves S/M shards
// of every priority on each master when S is a multiple of M.

const (
	// MaxShards bounds the number of chunk queues per priority.
	MaxShards = 64
	// ClusterShardsDefault is the number of shards on a Redis Cluster
	// unless configured: it spreads evenly over 1, 2, 3 or 6 masters.
	ClusterShardsDefault = 6
	clusterSlots         = redisconn.ClusterSlots
)

// DefaultShards is the number of chunk queues per priority for rdb:
// [ClusterShardsDefault] on a Redis Cluster, 1 otherwise.
func DefaultShards(rdb redis.UniversalClient) int {
	if _, ok := rdb.(*redis.ClusterClient); ok {
		return ClusterShardsDefault
	}
	return 1
}

// ShardNames returns the names of shards queues for base (at least one).
// With one shard the name is base itself, so a single-queue deployment
// keeps its queue. With more, shard i is named base:i when that name's
// hash slot falls in the shard's target window, else base:i.k with the
// smallest k ≥ 1 for which it does: the names are the same in every
// process, and each shard lands on its own part of the slot space.
func ShardNames(base string, shards int) []string {
	shards = min(max(shards, 1), MaxShards)
	if shards == 1 {
		return []string{base}
	}
	names := make([]string, shards)
	width := clusterSlots / shards
	for i := range shards {
		lo := i*clusterSlots/shards + width/4
		hi := lo + width/2 // [lo, hi): the middle half of range i
		prefix := base + ":" + strconv.Itoa(i)
		name := prefix
		for k := 1; ; k++ {
			if s := Slot(name); s >= lo && s < hi {
				break
			}
			name = prefix + "." + strconv.Itoa(k)
		}
		names[i] = name
	}
	return names
}

// Slot is the Redis Cluster hash slot of asynq's keys of queue name, which
// all carry the hash tag {name}.
func Slot(name string) int {
	return redisconn.KeySlot("{" + name + "}")
}
