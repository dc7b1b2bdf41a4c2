package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"
	"golang.org/x/sync/errgroup"

	"github.com/crunchjobs/crunch/internal/store"
	"github.com/crunchjobs/crunch/tasks"
)

// planParallelism bounds concurrent enqueues while fanning a job out.
const planParallelism = 16

// handlePlan releases the first window of a job's chunks, then marks the
// job planned. Running it twice is harmless.
func (w *Worker) handlePlan(ctx context.Context, t *asynq.Task) error {
	var p tasks.PlanPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode plan payload: %v: %w", err, asynq.SkipRetry)
	}
	job, err := w.activeJob(ctx, p.JobID)
	switch {
	case err != nil:
		return err
	case job == nil: // ended or gone: nothing to plan, nothing to reconcile
		return w.store.DropPending(ctx, p.JobID)
	case job.Planned:
		return nil
	}
	untrack, err := w.track(ctx, store.RunningTask{JobID: job.ID, Step: store.StepPlan})
	if err != nil {
		return err
	}
	defer untrack()
	if err := w.release(ctx, job); err != nil {
		return err
	}
	w.log.DebugContext(ctx, "job planned", slog.String("job", job.ID), slog.Int("chunks", job.Chunks.Total))
	return w.store.MarkPlanned(ctx, job.ID)
}

// release makes sure every chunk of job that should be queued is: the
// chunks below Window + (chunks done) that have not completed. Each job
// has at most Window chunks waiting or running at a time — the next one is
// released as one completes — so a job of 4,096 chunks does not put 4,096
// tasks ahead of every job submitted after it. Chunks already enqueued are
// skipped by their task ids, so release can be called again at any time
// (after a crash, by a re-run chunk, by the sweeper).
func (w *Worker) release(ctx context.Context, job *store.Job) error {
	done, err := w.store.Completed(ctx, job.ID)
	if err != nil {
		return err
	}
	upTo := min(job.Chunks.Total, w.cfg.Window+len(done))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(planParallelism)
	for i := range upTo {
		if done[i] {
			continue
		}
		g.Go(func() error { return w.enqueueChunk(gctx, job, i) })
	}
	return g.Wait()
}

func (w *Worker) enqueueChunk(ctx context.Context, job *store.Job, i int) error {
	payload := tasks.ChunkPayload{JobID: job.ID, Index: i, Range: tasks.ChunkRange(job.Extent, job.Chunks.Total, i)}
	return w.enqueue.Chunk(ctx, payload, job.Priority, job.MaxRetries, job.Deadline)
}
