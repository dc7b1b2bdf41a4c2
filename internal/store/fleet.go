package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The fleet as people see it (GET /v1/workers): each worker announces its
// concurrency with every heartbeat, in a hash that expires with the
// heartbeat (infoKey), next to the liveness key and the running set of
// workers.go.

// WorkerInfo describes one live worker.
type WorkerInfo struct {
	ID string
	// Concurrency is how many chunk tasks the worker runs at once; 0 when
	// the worker has not announced it.
	Concurrency int
	// StartedAt and LastSeen are zero when the worker has not announced them.
	StartedAt time.Time
	LastSeen  time.Time
	// Running are the tasks recorded as running on the worker.
	Running []RunningTask
}

// Announce records that worker, running since startedAt with concurrency
// chunk slots, is seen now; the record lapses after ttl.
func (s *Store) Announce(ctx context.Context, worker string, concurrency int, startedAt, now time.Time, ttl time.Duration) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.infoKey(worker),
			"concurrency", concurrency,
			"started_at", formatTime(startedAt),
			"last_seen", formatTime(now))
		p.PExpire(ctx, s.infoKey(worker), ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("announce worker %s: %w", worker, err)
	}
	return nil
}

// Workers returns the live workers (whose heartbeat has not lapsed), by id.
func (s *Store) Workers(ctx context.Context) ([]WorkerInfo, error) {
	ids, err := s.rdb.SMembers(ctx, s.workersKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("list workers: %w", err)
	}
	slices.Sort(ids)
	type reads struct {
		alive   *redis.IntCmd
		info    *redis.MapStringStringCmd
		running *redis.StringSliceCmd
	}
	cmds := make([]reads, len(ids))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = reads{
				alive:   p.Exists(ctx, s.aliveKey(id)),
				info:    p.HGetAll(ctx, s.infoKey(id)),
				running: p.SMembers(ctx, s.runningKey(id)),
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read workers: %w", err)
	}
	out := make([]WorkerInfo, 0, len(ids))
	for i, id := range ids {
		if cmds[i].alive.Val() != 1 {
			continue
		}
		w := WorkerInfo{ID: id, Running: parseEntries(id, cmds[i].running.Val())}
		info := cmds[i].info.Val()
		w.Concurrency, _ = strconv.Atoi(info["concurrency"])
		if t := parseOptionalTime(info["started_at"]); t != nil {
			w.StartedAt = *t
		}
		if t := parseOptionalTime(info["last_seen"]); t != nil {
			w.LastSeen = *t
		}
		slices.SortFunc(w.Running, func(a, b RunningTask) int {
			return cmp.Or(cmp.Compare(a.JobID, b.JobID), cmp.Compare(a.Step, b.Step), cmp.Compare(a.Index, b.Index))
		})
		out = append(out, w)
	}
	return out, nil
}
