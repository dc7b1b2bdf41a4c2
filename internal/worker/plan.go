package worker

import (
	"context"
	"encoding/json"
	"errors"
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
	if job.Extent == tasks.ExtentUnknown {
		if job, err = w.planExtent(ctx, job); job == nil {
			return err
		}
	}
	if err := w.release(ctx, job); err != nil {
		return err
	}
	w.log.DebugContext(ctx, "job planned", slog.String("job", job.ID), slog.Int("chunks", job.Chunks.Total))
	return w.store.MarkPlanned(ctx, job.ID)
}

// planExtent runs the plan step of a job whose extent only its runner can
// tell (tasks.ExtentUnknown) and stores the answer, keeping the request's
// chunk count when it fixed one. It returns the job as planned, or nil
// with the error to hand asynq when there is nothing more to do: the job
// ended (stopped, timed out, or failed by its plan), or the worker is
// shutting down (the plan is then handed back).
func (w *Worker) planExtent(ctx context.Context, job *store.Job) (*store.Job, error) {
	planner, ok := w.runners[job.Kernel].(tasks.Planner)
	if !ok {
		w.failJob(ctx, job, kernelError(fmt.Sprintf("worker %s cannot plan kernel %s", w.cfg.ID, job.Kernel)))
		return nil, fmt.Errorf("cannot plan kernel %q: %w", job.Kernel, asynq.SkipRetry)
	}
	runCtx, cancel := w.running.start(ctx, job.ID, job.Deadline)
	defer cancel()
	type plan struct {
		extent int64
		chunks int
	}
	p, err := safely(func() (plan, error) {
		extent, chunks, err := planner.Plan(runCtx, job.Params)
		return plan{extent, chunks}, err
	})
	if err == nil && (p.extent < 0 || p.chunks < 1 || p.chunks > tasks.MaxChunks) {
		err = fmt.Errorf("plan gave extent %d and %d chunks; want an extent of at least 0 and 1 to %d chunks", p.extent, p.chunks, tasks.MaxChunks)
	}
	if err != nil {
		switch {
		case errors.Is(context.Cause(runCtx), errStopped):
			return nil, revoked()
		case !w.cfg.Now().Before(job.Deadline):
			w.failJob(ctx, job, timeoutError(job))
			return nil, revoked()
		case ctx.Err() != nil:
			return nil, ctx.Err() // shutting down: asynq hands the plan back
		}
		w.log.WarnContext(ctx, "plan failed", slog.String("job", job.ID), slog.Any("err", err))
		w.failJob(ctx, job, kernelError(fmt.Sprintf("plan failed: %v", err)))
		return nil, fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	chunks := p.chunks
	if job.Chunks.Total > 0 {
		chunks = 0 // the request fixed the count
	}
	extent, total, err := w.store.SetPlan(ctx, job.ID, p.extent, chunks)
	switch {
	case errors.Is(err, store.ErrNotActive), errors.Is(err, store.ErrNotFound):
		return nil, w.store.DropPending(ctx, job.ID)
	case err != nil:
		return nil, err
	}
	planned := *job
	planned.Extent, planned.Chunks.Total = extent, total
	return &planned, nil
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
