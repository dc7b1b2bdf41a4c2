package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"
	"golang.org/x/sync/errgroup"

	"github.com/crunchjobs/crunch/tasks"
)

// planParallelism bounds concurrent enqueues while fanning a job out.
const planParallelism = 16

// handlePlan enqueues every chunk task of a job that has not completed,
// then marks the job planned. Running it twice is harmless.
func (w *Worker) handlePlan(ctx context.Context, t *asynq.Task) error {
	var p tasks.PlanPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode plan payload: %v: %w", err, asynq.SkipRetry)
	}
	job, err := w.store.Get(ctx, p.JobID)
	if err != nil {
		return dropIfMissing(err)
	}
	if job.Planned {
		return nil
	}
	if job.Status.Terminal() {
		return w.store.MarkPlanned(ctx, job.ID)
	}
	done, err := w.store.Completed(ctx, job.ID)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(planParallelism)
	for i := range job.Chunks.Total {
		if done[i] {
			continue
		}
		payload := tasks.ChunkPayload{JobID: job.ID, Index: i, Range: tasks.ChunkRange(job.Extent, job.Chunks.Total, i)}
		g.Go(func() error {
			return w.enqueue.Chunk(gctx, payload, job.Priority, job.MaxRetries, job.Deadline)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	w.log.DebugContext(ctx, "job planned", slog.String("job", job.ID), slog.Int("chunks", job.Chunks.Total))
	return w.store.MarkPlanned(ctx, job.ID)
}
