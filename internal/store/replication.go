package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/crunchjobs/crunch/internal/redisconn"
)

// Replication is asynchronous: a master acknowledges a write before its
// replicas have it, so a job accepted with 202 can be lost if the master
// dies just after and a replica that missed the job is promoted.
// WaitReplicas closes that window for the writes made before it.
//
// WAIT only counts the writes of the connection that sends it, and the
// store's writes come from a pool of connections (and asynq's). So
// WaitReplicas writes a small fence key on a connection of its own and
// WAITs on that connection: a replica that has acknowledged the fence has
// everything the master wrote before it, because a master's replication
// stream is in order. On a Cluster the writes of one submission land on
// several masters (the job's slot, the indexes, the asynq queue), so the
// fence is written and waited for on every master, concurrently.

// ErrNotReplicated means fewer replicas than asked acknowledged the writes
// within the timeout; the writes are on the master, but may not survive its
// loss.
var ErrNotReplicated = errors.New("writes not acknowledged by enough replicas")

// fenceTTL is how long a fence key lives; it only has to outlast the WAIT.
const fenceTTL = time.Minute

// WaitReplicas waits until at least n replicas of the master (of every
// master, on a Cluster) have acknowledged every write made before the call,
// or timeout passes. It returns nil at once when n ≤ 0, an error wrapping
// ErrNotReplicated when too few replicas acknowledged in time, and the
// Redis error when a master cannot be reached.
func (s *Store) WaitReplicas(ctx context.Context, n int, timeout time.Duration) error {
	if n <= 0 {
		return nil
	}
	if timeout <= 0 {
		return errors.New("wait for replicas: the timeout must be positive (WAIT 0 blocks forever)")
	}
	switch c := s.rdb.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			return s.waitOn(ctx, m, n, timeout, true)
		})
	case *redis.Client: // one server, or the master behind a failover client
		return s.waitOn(ctx, c, n, timeout, false)
	default:
		return fmt.Errorf("wait for replicas: unsupported client %T", s.rdb)
	}
}

// waitOn writes a fence on a connection of its own to the master behind c
// and WAITs for n replicas there.
func (s *Store) waitOn(ctx context.Context, c *redis.Client, n int, timeout time.Duration, cluster bool) error {
	key := s.cfg.Namespace + ":replication-fence"
	if cluster {
		var err error
		if key, err = s.fenceKey(ctx, c); err != nil {
			return fmt.Errorf("wait for replicas of %s: %w", c.Options().Addr, err)
		}
	}
	conn := c.Conn()
	defer conn.Close()
	err := conn.Set(ctx, key, time.Now().UnixNano(), fenceTTL).Err()
	if err != nil && cluster && isMoved(err) {
		fenceKeys.Delete(s.cfg.Namespace + " " + c.Options().Addr) // the slots moved: find another key
	}
	if err != nil {
		return fmt.Errorf("wait for replicas of %s: fence: %w", c.Options().Addr, err)
	}
	got, err := conn.Wait(ctx, n, timeout).Result()
	if err != nil {
		return fmt.Errorf("wait for replicas of %s: %w", c.Options().Addr, err)
	}
	if got < int64(n) {
		return fmt.Errorf("%w: %d of %d replicas of %s within %s", ErrNotReplicated, got, n, c.Options().Addr, timeout)
	}
	return nil
}

func isMoved(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "MOVED ") || strings.HasPrefix(msg, "ASK ")
}

// fenceKey returns a key in a hash slot that the cluster master behind c
// owns, cached by namespace and address.
func (s *Store) fenceKey(ctx context.Context, c *redis.Client) (string, error) {
	addr := c.Options().Addr
	cacheKey := s.cfg.Namespace + " " + addr
	if k, ok := fenceKeys.Load(cacheKey); ok {
		return k.(string), nil
	}
	id, err := c.Do(ctx, "CLUSTER", "MYID").Text()
	if err != nil {
		return "", fmt.Errorf("CLUSTER MYID: %w", err)
	}
	slots, err := c.ClusterSlots(ctx).Result()
	if err != nil {
		return "", fmt.Errorf("CLUSTER SLOTS: %w", err)
	}
	for _, r := range slots {
		if len(r.Nodes) == 0 || r.Nodes[0].ID != id {
			continue
		}
		for k := 0; k < 100*redisconn.ClusterSlots; k++ {
			key := s.cfg.Namespace + ":replication-fence:{" + strconv.Itoa(k) + "}"
			if slot := redisconn.KeySlot(key); slot >= r.Start && slot <= r.End {
				fenceKeys.Store(cacheKey, key)
				return key, nil
			}
		}
	}
	return "", fmt.Errorf("node %s owns no hash slot", id)
}

// fenceKeys caches fenceKey's answers by namespace and node address.
var fenceKeys sync.Map
