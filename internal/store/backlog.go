package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/crunchjobs/crunch/crunchtype"
)

// Backlog is the work left in unfinished jobs of one priority.
type Backlog struct {
	// Jobs counts the unfinished (queued or running) jobs.
	Jobs int64
	// Chunks counts their chunks that have not completed: queued, running
	// or waiting for a retry, whether or not their task has been released
	// to the queue yet (a job's chunks are released a window at a time).
	Chunks int64
	// Runnable counts the chunks workers could run at once: per job, its
	// chunks not completed, but at most the release window. One job of 4096
	// chunks has a backlog of 4096 and keeps at most a window of them busy.
	Runnable int64
}

// Backlog sums, by priority, the chunks not yet completed (chunks_total −
// chunks_done) of the unfinished jobs among ids and among the jobs not
// planned yet (the pending set); Runnable caps each job at window chunks
// (the workers' release window, 4 by default). ids need not be exact: finished,
// expired and repeated ids are skipped. A caller that knows every
// unfinished job — the API reads them from the deadline tasks, which
// every unfinished job has — gets the deployment's true backlog, which the
// queues alone do not show.
//
// The cost is one read of the pending set and one HMGET per job, in one
// pipeline: proportional to the number of unfinished jobs, not of chunks.
// A job whose chunk count is not known yet (an exec kernel without
// "chunks", until a worker plans it) counts no chunks.
func (s *Store) Backlog(ctx context.Context, ids []string, window int) (map[string]Backlog, error) {
	pending, err := s.rdb.ZRange(ctx, s.pendingKey(), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("backlog: pending jobs: %w", err)
	}
	seen := make(map[string]bool, len(ids)+len(pending))
	var jobs []string
	for _, id := range append(pending, ids...) {
		if !seen[id] {
			seen[id] = true
			jobs = append(jobs, id)
		}
	}
	cmds := make([]*redis.SliceCmd, len(jobs))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range jobs {
			cmds[i] = p.HMGet(ctx, s.keys(id).job, "status", "priority", "chunks_total", "chunks_done")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("backlog: jobs: %w", err)
	}
	backlog := map[string]Backlog{}
	for _, cmd := range cmds {
		v := cmd.Val()
		status, _ := v[0].(string)
		if status != string(crunchtype.StatusQueued) && status != string(crunchtype.StatusRunning) {
			continue // finished, expired or never created
		}
		priority, _ := v[1].(string)
		total, _ := strconv.ParseInt(str(v[2]), 10, 64)
		done, _ := strconv.ParseInt(str(v[3]), 10, 64)
		b := backlog[priority]
		b.Jobs++
		left := max(total-done, 0)
		b.Chunks += left
		b.Runnable += min(left, int64(window))
		backlog[priority] = b
	}
	return backlog, nil
}

func str(v any) string { s, _ := v.(string); return s }
